package io.micro.sidecar.bench.broker;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.broker.Message;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.Disposable;

/** One publish fanned out to N in-memory subscribers that keep up. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BrokerFanoutBenchmark {

  @Param({"1", "10", "100"})
  int subscribers;

  private Broker broker;
  private final List<Disposable> subscriptions = new ArrayList<>();
  private final LongAdder delivered = new LongAdder();
  private final Message message = new Message(Map.of("Content-Type", "text/plain"),
      "hello world".getBytes(StandardCharsets.UTF_8));

  @Setup
  public void setup() {
    broker = Broker.memory(BrokerConfig.DEFAULT);
    for (int i = 0; i < subscribers; i++) {
      subscriptions.add(broker.subscribe("bench", null).subscribe(m -> delivered.increment()));
    }
  }

  @TearDown
  public void close() {
    subscriptions.forEach(Disposable::dispose);
    broker.close();
  }

  @Benchmark
  public void publish() {
    broker.publish("bench", message).block();
  }
}
