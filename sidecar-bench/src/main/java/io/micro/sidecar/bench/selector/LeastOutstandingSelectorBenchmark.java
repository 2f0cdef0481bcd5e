package io.micro.sidecar.bench.selector;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.NodeSet;
import io.micro.sidecar.core.selector.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One selection and its release, as every call does, with threads contending on the same nodes: from
 * the registry's {@link NodeSet}, made when membership changes (what calls do), and from a plain list
 * of nodes, whose selection state is derived on every call (what every call did before node sets).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LeastOutstandingSelectorBenchmark {

  @Param({"3", "30"})
  int nodes;

  private final Selector selector = Selector.leastOutstanding();
  private List<Node> candidates;
  private NodeSet set;

  @Setup
  public void setup() {
    candidates = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      candidates.add(new Node("node-" + i, "10.0.0." + i, 8080, null));
    }
    set = NodeSet.ofNodes(candidates);
  }

  @Benchmark
  @Threads(2)
  public Node selectNowAndRelease() {
    Selector.Lease lease = selector.selectNow(set, null);
    lease.success();
    return lease.node();
  }

  @Benchmark
  @Threads(2)
  public Node selectAndRelease() {
    Selector.Lease lease = selector.select(candidates, Set.of()).orElseThrow();
    lease.success();
    return lease.node();
  }
}
