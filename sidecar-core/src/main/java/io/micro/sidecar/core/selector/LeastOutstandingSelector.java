package io.micro.sidecar.core.selector;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.NodeSet;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
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
 * minutes after it was last a candidate, so nodes that leave the registry do not accumulate. The
 * states of a {@link NodeSet}'s nodes are looked up once and kept on the set (looked up again by about
 * one selection in 256, which keeps them remembered while used; a state the cache forgot meanwhile is
 * put back), so a selection from a set the registry
 * made when membership changed reads no cache and allocates nothing but its lease. A lease holds its
 * node's state directly, so ending it never looks anything up.
 *
 * <p>Thread-safe and lock-free on the hot path: counters are atomics; the cache's maintenance runs
 * on the calling thread, amortised and non-blocking, instead of hopping to the common pool.
 */
final class LeastOutstandingSelector implements Selector {

  /** Node ids not seen as candidates for this long are forgotten. */
  static final Duration FORGET_AFTER = Duration.ofMinutes(10);
  /**
   * About one selection from a node set in 256 looks its states up again (when eight bits of the
   * clock, counting in microseconds, are all zero), which keeps them in the cache while the set is used
   * a few times a second or more; a set used more rarely may find a state forgotten, and puts the one
   * it holds back, so the set keeps its nodes' counts. Not a time limit on
   * purpose: a branch taken only after an idle spell is one the JIT has never seen taken, and taking it
   * throws away the compiled request path it was inlined into (each round of load after a minute's
   * idle began with the whole path interpreted, then recompiled).
   */
  private static final long REFRESH_MASK = 255L << 10;

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
    return Optional.ofNullable(selectNow(NodeSet.ofNodes(candidates), exclude));
  }

  @Override
  public Lease selectNow(NodeSet candidates, Set<String> exclude) {
    int n = candidates.size();
    if (n == 0) {
      return null;
    }
    long now = ticker.read();
    NodeState[] states = states(candidates, now);
    int healthy = 0;
    int ejected = 0;
    for (int i = 0; i < n; i++) {
      if (exclude == null || !exclude.contains(candidates.get(i).id())) {
        if (states[i].isEjected(now)) {
          ejected++;
        } else {
          healthy++;
        }
      }
    }
    // panic: every candidate left is ejected, so the choice is among them
    boolean panic = healthy == 0;
    int size = panic ? ejected : healthy;
    if (size == 0) {
      return null;
    }
    int pick;
    if (size == 1) {
      pick = nth(candidates, states, exclude, now, panic, 0);
    } else {
      int first = random.nextInt(size);
      int second = random.nextInt(size - 1);
      if (second >= first) {
        second++;
      }
      int a = nth(candidates, states, exclude, now, panic, first);
      int b = nth(candidates, states, exclude, now, panic, second);
      pick = states[b].inFlight.get() < states[a].inFlight.get() ? b : a;
    }
    NodeState state = states[pick];
    state.inFlight.incrementAndGet();
    inFlightTotal.increment();
    return new NodeLease(candidates.get(pick), state);
  }

  /**
   * The index of the {@code k}th candidate of the group chosen from (the healthy ones, or under panic
   * the ejected ones), in candidate order. Should another call eject a node, or an ejection end, since
   * the group was counted, there may be no {@code k}th: then the last of the group, or any candidate
   * not excluded.
   */
  private static int nth(NodeSet candidates, NodeState[] states, Set<String> exclude, long now, boolean panic,
                         int k) {
    int left = k;
    int last = -1;
    int any = -1;
    for (int i = 0; i < states.length; i++) {
      if (exclude != null && exclude.contains(candidates.get(i).id())) {
        continue;
      }
      any = any < 0 ? i : any;
      if (states[i].isEjected(now) == panic) {
        last = i;
        if (left-- == 0) {
          return i;
        }
      }
    }
    return last >= 0 ? last : any;
  }

  /**
   * The state of each candidate, derived once per node set and kept on it; derived again once a
   * minute, which also tells the cache of states that these nodes are still candidates.
   */
  private NodeState[] states(NodeSet candidates, long now) {
    NodeState[] prior = candidates.selection() instanceof Prepared p && p.selector == this ? p.states : null;
    if (prior != null && (now & REFRESH_MASK) != 0) {
      return prior;
    }
    NodeState[] derived = new NodeState[candidates.size()];
    for (int i = 0; i < derived.length; i++) {
      NodeState held = prior == null ? null : prior[i];
      derived[i] = states.get(candidates.get(i).id(), held == null ? newState : id -> held);
    }
    candidates.selection(new Prepared(this, derived));
    return derived;
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

  /** The states of a node set's nodes, as derived by one selector at {@code at}. */
  private record Prepared(LeastOutstandingSelector selector, NodeState[] states) {
  }

  private final class NodeLease implements Lease {
    private final Node node;
    private final NodeState state;
    // a field, not an AtomicBoolean: one object per call, not two
    private static final AtomicIntegerFieldUpdater<NodeLease> ENDED =
        AtomicIntegerFieldUpdater.newUpdater(NodeLease.class, "ended");
    private volatile int ended;

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
      if (ENDED.compareAndSet(this, 0, 1)) {
        state.inFlight.decrementAndGet();
        inFlightTotal.decrement();
        return true;
      }
      return false;
    }

    @Override
    public String toString() {
      return "Lease[" + node.id() + (ended == 1 ? ", ended]" : "]");
    }
  }
}
