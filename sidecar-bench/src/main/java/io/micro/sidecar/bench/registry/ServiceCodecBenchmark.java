package io.micro.sidecar.bench.registry;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.ServiceCodec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Reading a registration and writing a lookup answer: the cost of each {@code /registry} call. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ServiceCodecBenchmark {

  private final byte[] registration = ("{\"Name\":\"foo.bar\",\"Nodes\":[{\"Port\":9091,\"Address\":\"127.0.0.1\","
      + "\"Id\":\"foo.bar-017da09a-734f-11e5-8136-68a86d0d36b6\"}]}").getBytes(StandardCharsets.UTF_8);
  private final List<Service> answer = List.of(new Service("foo.bar", "", null, null,
      List.of(new Node("foo.bar-1", "127.0.0.1", 9091, null), new Node("foo.bar-2", "127.0.0.1", 9092, null))));

  @Benchmark
  public Service decodeRegistration() {
    return ServiceCodec.decodeRegistration(registration);
  }

  @Benchmark
  public byte[] encodeLookup() {
    return ServiceCodec.encode(answer);
  }
}
