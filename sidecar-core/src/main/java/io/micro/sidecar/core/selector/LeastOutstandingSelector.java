package io.micro.sidecar.core.selector;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micro.sidecar.core.registry.Node;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import java.util.random.RandomGenerator;

/**
 * Least outstanding requests by power-of-two-choices, with ejection of failing nodes (contract §10).
 *
 * <p><b>Choice.</b> Candidates that are excluded are dropped, then ejected ones. Of the rest, two
 * distinct nodes are drawn at random and the one with fewer calls in flight wins; a tie goes to the
 * first drawn. One candidate left is taken without a draw. Drawing two rather than scanning for the
 * minimum keeps a burst of selections from all piling onto the same momentarily idle node.
 *
 * <p><b>Ejection.</b> {@link Lease#failure()} counts a consecutive failure and
 * {@link Lease#success()} resets the count. At {@code ejectAfterFailures} in a row the node is
 * ejected for {@code ejectFor} on the injected ticker; failures that arrive while it is out (calls
 * that were already in flight) do not extend that. When it returns it is on probation: the count
 * stays at the threshold, so a single failure ejects it again, while a success restores it fully.
 * A success during the ejection resets the count but does not end the ejection early.
 *
 * <p><b>Panic mode.</b> When every candidate that is not excluded is ejected, the choice is made
 * among those ejected nodes anyway, as Envoy does below its panic threshold: with every node out,
 * trying one beats failing every call until a cool-down ends. Only when every candidate is
 * excluded is the answer empty.
 *
 * <p><b>State.</b> Per node id, in a Caffeine cache on the injected ticker that forgets a node 10
 * minutes after it was last a candidate, so nodes that leave the registry do not accumulate. A
 * lease holds its node's state directly, so ending it never looks anything up.
 *
 * <p>Thread-safe and lock-free on the hot path: counters are atomics; the cache's maintenance runs
 * on the calling thread, amortised and non-blocking, instead of hopping to the common pool.
 */
final class LeastOutstandingSelector implements Selector {

  /** Node ids not seen as candidates for this long are forgotten. */
  static final Duration FORGET_AFTER = Duration.ofMinutes(10);

  private final Ticker ticker;
  private final RandomGenerator random;
  private final long ejectForNanos;
  private final Cache<String, NodeState> states;
  /** Counts a failure but never past the threshold, so the count cannot overflow. */
  private final IntUnaryOperator countFailure;
  private final Function<String, NodeState> newState;
  private final int ejectAfterFailures;
  /** Totals for observability, kept apart from the per-node state so reading them never walks the cache. */
  private final LongAdder inFlightTotal = new LongAdder();
  private final LongAdder ejections = new LongAdder();

  LeastOutstandingSelector(SelectorConfig config) {
    this.ticker = config.ticker();
    this.random = config.random();
    this.ejectForNanos = config.ejectFor().toNanos();
    this.ejectAfterFailures = config.ejectAfterFailures();
    this.countFailure = n -> n < ejectAfterFailures ? n + 1 : n;
    this.newState = id -> new NodeState(ticker.read());
    this.states = Caffeine.newBuilder()
        .expireAfterAccess(FORGET_AFTER)
        .ticker(ticker)
        .executor(Runnable::run)
        .build();
  }

  @Override
  public Optional<Lease> select(List<Node> candidates, Set<String> exclude) {
    Objects.requireNonNull(candidates, "candidates");
    int n = candidates.size();
    if (n == 0) {
      return Optional.empty();
    }
    long now = ticker.read();
    // Healthy nodes fill the arrays from the front, ejected ones from the back, both in candidate order.
    Node[] nodes = new Node[n];
    NodeState[] found = new NodeState[n];
    int healthy = 0;
    int ejected = 0;
    for (Node node : candidates) {
      String id = node.id();
      if (exclude != null && exclude.contains(id)) {
        continue;
      }
      NodeState state = states.get(id, newState);
      if (state.isEjected(now)) {
        ejected++;
        nodes[n - ejected] = node;
        found[n - ejected] = state;
      } else {
        nodes[healthy] = node;
        found[healthy] = state;
        healthy++;
      }
    }
    int from;
    int size;
    if (healthy > 0) {
      from = 0;
      size = healthy;
    } else if (ejected > 0) {
      from = n - ejected;
      size = ejected;
      reverse(nodes, found, from, n);
    } else {
      return Optional.empty();
    }
    int pick = from + choose(found, from, size);
    NodeState state = found[pick];
    state.inFlight.incrementAndGet();
    inFlightTotal.increment();
    return Optional.of(new NodeLease(nodes[pick], state));
  }

  /** Power of two choices among {@code found[from, from + size)}; the offset of the winner. */
  private int choose(NodeState[] found, int from, int size) {
    if (size == 1) {
      return 0;
    }
    int first = random.nextInt(size);
    int second = random.nextInt(size - 1);
    if (second >= first) {
      second++;
    }
    return found[from + second].inFlight.get() < found[from + first].inFlight.get() ? second : first;
  }

  /** The ejected nodes were filled from the back; put them back in candidate order. */
  private static void reverse(Node[] nodes, NodeState[] found, int from, int to) {
    for (int i = from, j = to - 1; i < j; i++, j--) {
      Node n = nodes[i];
      nodes[i] = nodes[j];
      nodes[j] = n;
      NodeState s = found[i];
      found[i] = found[j];
      found[j] = s;
    }
  }

  @Override
  public int inFlight(String nodeId) {
    NodeState state = peek(nodeId);
    return state == null ? 0 : state.inFlight.get();
  }

  @Override
  public boolean isEjected(String nodeId) {
    NodeState state = peek(nodeId);
    return state != null && state.isEjected(ticker.read());
  }

  /** Looking does not count as use: observing a node must not keep it from being forgotten. */
  private NodeState peek(String nodeId) {
    return nodeId == null ? null : states.policy().getIfPresentQuietly(nodeId);
  }

  @Override
  public long inFlight() {
    return inFlightTotal.sum();
  }

  @Override
  public long ejections() {
    return ejections.sum();
  }

  @Override
  public String toString() {
    return "LeastOutstandingSelector[ejectAfterFailures=" + ejectAfterFailures
        + ", ejectFor=" + Duration.ofNanos(ejectForNanos) + ", nodes=" + states.estimatedSize() + "]";
  }

  /** What the selector knows of one node. */
  private final class NodeState {
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger failures = new AtomicInteger();
    /** Ticker time the ejection ends; in the past when the node is not ejected. */
    volatile long ejectedUntil;

    NodeState(long now) {
      this.ejectedUntil = now;
    }

    boolean isEjected(long now) {
      return now - ejectedUntil < 0;
    }

    void succeeded() {
      failures.set(0);
    }

    void failed() {
      if (failures.updateAndGet(countFailure) >= ejectAfterFailures) {
        long now = ticker.read();
        if (!isEjected(now)) {
          ejectedUntil = now + ejectForNanos;
          ejections.increment();
        }
      }
    }
  }

  private final class NodeLease implements Lease {
    private final Node node;
    private final NodeState state;
    private final AtomicBoolean ended = new AtomicBoolean();

    NodeLease(Node node, NodeState state) {
      this.node = node;
      this.state = state;
    }

    @Override
    public Node node() {
      return node;
    }

    @Override
    public void success() {
      if (end()) {
        state.succeeded();
      }
    }

    @Override
    public void failure() {
      if (end()) {
        state.failed();
      }
    }

    @Override
    public void release() {
      end();
    }

    private boolean end() {
      if (ended.compareAndSet(false, true)) {
        state.inFlight.decrementAndGet();
        inFlightTotal.decrement();
        return true;
      }
      return false;
    }

    @Override
    public String toString() {
      return "Lease[" + node.id() + (ended.get() ? ", ended]" : "]");
    }
  }
}
