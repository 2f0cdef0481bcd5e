package io.micro.sidecar.bench.registry;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

/** A lookup as every call makes it: a local read of the registry's current answer. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RegistryLookupBenchmark {

  @Param({"10", "1000"})
  int services;

  private Registry registry;

  @Setup
  public void setup() {
    registry = Registry.memory();
    for (int i = 0; i < services; i++) {
      registry.register(new Service("svc-" + i, "", null, null,
          List.of(new Node("svc-" + i + "-1", "10.0.0.1", 8080, null))), Registry.NO_TTL).block();
    }
  }

  @TearDown
  public void close() {
    registry.close();
  }

  @Benchmark
  public List<Service> lookup() {
    return registry.lookup("svc-" + (services / 2)).block();
  }
}
