package io.micro.sidecar.core.selector;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.NodeSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Chooses the node that serves one call (contract §10) and learns from how the call ended.
 *
 * <p>Every {@link Lease} handed out must be ended exactly once by {@link Lease#success()},
 * {@link Lease#failure()} or {@link Lease#release()}; call one of them from Reactor's
 * {@code doFinally} so that complete, error and cancel are all covered. Ending a lease again does
 * nothing.
 *
 * <p>Implementations are thread-safe and never block; selection and ending leases are lock-free.
 */
public interface Selector {

  /** Least outstanding requests with power-of-two-choices and ejection, with the defaults of {@link SelectorConfig#defaults()}. */
  static Selector leastOutstanding() {
    return leastOutstanding(SelectorConfig.defaults());
  }

  /** Least outstanding requests with power-of-two-choices and ejection; see {@link LeastOutstandingSelector}. */
  static Selector leastOutstanding(SelectorConfig config) {
    return new LeastOutstandingSelector(config);
  }

  /**
   * Picks a node among the candidates (all versions' nodes flattened), skipping ejected ones and
   * {@code exclude}d ids; empty if none usable. The returned lease counts the call as in flight on
   * its node until it is ended.
   */
  Optional<Lease> select(List<Node> candidates, Set<String> exclude);

  /**
   * {@link #select} among a registry's {@link NodeSet} ({@link io.micro.sidecar.core.registry.Registry#nodes}),
   * which is what calls use: what the selector derives from the nodes is kept on the set, so that it
   * is derived once per membership change. Null when no candidate is usable.
   */
  Lease selectNow(NodeSet candidates, Set<String> exclude);

  /** Counters for observability: in-flight count of a node id (0 if unknown). */
  int inFlight(String nodeId);

  /** Whether the node is ejected now (false if unknown). */
  boolean isEjected(String nodeId);

  /** Calls in flight on every node together (per node would be a label per node: too many series). */
  default long inFlight() {
    return 0;
  }

  /** Ejections since the selector was made. */
  default long ejections() {
    return 0;
  }

  /** One call's hold on a node. Thread-safe: the first of its three ending methods wins. */
  interface Lease {

    Node node();

    /** The call got an answer from the node: uncounts it and resets the node's consecutive failures. */
    void success();

    /** The node failed the call: uncounts it and counts a consecutive failure towards ejection. */
    void failure();

    /** Neither: cancelled; only uncounts. */
    void release();
  }
}
