package io.micro.sidecar.core.broker;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntUnaryOperator;
import java.util.function.Predicate;

/**
 * Where one message published on this sidecar goes under {@code --broker=http} (contract §7.4): which
 * of this sidecar's queue groups take it here, and which peer nodes it is POSTed to. This sidecar's
 * plain (non-queue) subscribers always take it here.
 *
 * <p>The rule that makes delivery exactly-once per group across sidecars, given one view of the
 * registry: every sidecar with members of a queue group registers one node for it (version = the queue
 * name), so a group's candidates are the nodes of that version — each standing for one sidecar's members
 * — and exactly one candidate is picked per message. This sidecar is a candidate when it has members of
 * the group now, whether or not its own node has reached the registry yet; when it is picked, the group
 * is delivered here and no peer is sent it, and when a peer is picked, the group is left out here. The
 * receiving sidecar hands what arrives on {@code /_sub} to one of its members and never forwards it.
 * Broadcast nodes (version {@value #BROADCAST}) of every other sidecar each get one copy, and deliver
 * it to their plain subscribers only.
 *
 * @param localQueues the queue groups of this sidecar that take the message here
 * @param peers       the nodes of other sidecars to POST it to, one request each
 */
record DeliveryPlan(Set<String> localQueues, List<Node> peers) {

  /** go-micro's version for subscribers without a queue: every such node gets every message. */
  static final String BROADCAST = "ff.http.broadcast";

  private static final Comparator<Node> BY_ID = Comparator.comparing(Node::id);
  /** Stands for this sidecar among a group's candidates; compared by identity. */
  private static final Node SELF = new Node("", "", 0, null);

  /**
   * @param services   what the registry knows of {@code topic:<t>}, one Service per version
   * @param own        true for this sidecar's own nodes, which are never sent to
   * @param localQueue the queue groups of the topic with members on this sidecar right now
   * @param pick       given n ≥ 1 candidates, the index in [0, n) of the one that takes the message;
   *                   candidates are ordered by node id, with this sidecar first
   */
  static DeliveryPlan of(Collection<Service> services, Predicate<Node> own, Set<String> localQueue,
                         IntUnaryOperator pick) {
    List<Node> peers = new ArrayList<>();
    // version -> other sidecars' nodes, in a stable order so that a pick is reproducible
    Map<String, List<Node>> groups = new LinkedHashMap<>();
    for (Service s : services) {
      if (s.nodes() == null) {
        continue;
      }
      for (Node n : s.nodes()) {
        if (n == null || n.id() == null || own.test(n)) {
          continue;
        }
        if (BROADCAST.equals(s.version())) {
          peers.add(n);
        } else {
          groups.computeIfAbsent(s.version(), v -> new ArrayList<>()).add(n);
        }
      }
    }
    Set<String> local = new HashSet<>(localQueue);
    for (Map.Entry<String, List<Node>> g : groups.entrySet()) {
      List<Node> candidates = g.getValue();
      String queue = g.getKey();
      candidates.sort(BY_ID);
      Node self = null;
      if (local.contains(queue)) {
        self = SELF;
        candidates.add(0, self);
      }
      Node chosen = candidates.get(pick.applyAsInt(candidates.size()));
      if (chosen != self) {
        local.remove(queue);
        peers.add(chosen);
      }
    }
    return new DeliveryPlan(Set.copyOf(local), List.copyOf(peers));
  }
}
