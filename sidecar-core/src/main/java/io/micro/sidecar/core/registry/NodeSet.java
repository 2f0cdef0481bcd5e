package io.micro.sidecar.core.registry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The nodes of one service, every version's, as a call chooses among them: made once when the
 * service's membership changes ({@link ServiceIndex#publish}) and read by every call after, so that a
 * call flattens nothing. Immutable, except for one slot in which the selector keeps what it derives
 * from these nodes (their selection state), so that it too is derived once per membership change.
 *
 * <p>Thread-safe.
 */
public final class NodeSet {

  /** No nodes: the answer for a service nobody registered. */
  public static final NodeSet EMPTY = new NodeSet(new Node[0]);

  private final Node[] nodes;
  private volatile Object selection;

  private NodeSet(Node[] nodes) {
    this.nodes = nodes;
  }

  /** The nodes of {@code answer}, in its order: versions sorted, each version's nodes as it lists them. */
  public static NodeSet of(List<Service> answer) {
    if (answer.isEmpty()) {
      return EMPTY;
    }
    List<Node> all = new ArrayList<>();
    for (Service s : answer) {
      if (s.nodes() != null) {
        all.addAll(s.nodes());
      }
    }
    return all.isEmpty() ? EMPTY : new NodeSet(all.toArray(new Node[0]));
  }

  /** {@code nodes} as a set, in their order. */
  public static NodeSet ofNodes(List<Node> nodes) {
    return nodes.isEmpty() ? EMPTY : new NodeSet(nodes.toArray(new Node[0]));
  }

  public int size() {
    return nodes.length;
  }

  public boolean isEmpty() {
    return nodes.length == 0;
  }

  /** The {@code i}th node. */
  public Node get(int i) {
    return nodes[i];
  }

  public List<Node> asList() {
    return List.of(nodes);
  }

  /** What the selector derived from these nodes; null until it has. */
  public Object selection() {
    return selection;
  }

  /**
   * Keeps what the selector derived from these nodes. Racing writers each derive the same thing from
   * the same nodes, so the last one wins harmlessly.
   */
  public void selection(Object derived) {
    this.selection = derived;
  }

  @Override
  public String toString() {
    return "NodeSet" + Arrays.toString(Arrays.stream(nodes).map(Node::id).toArray());
  }
}
