package io.micro.sidecar.core.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.IntUnaryOperator;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class DeliveryPlanTest {

  private static final String B = DeliveryPlan.BROADCAST;

  private static Node node(String id, int port) {
    return new Node(id, "127.0.0.1", port, Map.of("secure", "false"));
  }

  private static Service service(String version, Node... nodes) {
    return new Service("topic:t", version, null, null, List.of(nodes));
  }

  private static Predicate<Node> ownIds(String... ids) {
    Set<String> own = Set.of(ids);
    return n -> own.contains(n.id());
  }

  /** Answers the scripted indexes in order and records how many candidates each pick saw. */
  private static final class Script implements IntUnaryOperator {
    final Deque<Integer> answers = new ArrayDeque<>();
    final List<Integer> sizes = new ArrayList<>();

    Script(Integer... answers) {
      this.answers.addAll(List.of(answers));
    }

    @Override
    public int applyAsInt(int n) {
      sizes.add(n);
      return answers.removeFirst();
    }
  }

  private static List<String> ids(DeliveryPlan plan) {
    return plan.peers().stream().map(Node::id).toList();
  }

  @Test
  void withNothingRegisteredEverythingIsDeliveredHere() {
    Script pick = new Script();
    DeliveryPlan plan = DeliveryPlan.of(List.of(), ownIds(), Set.of("q1", "q2"), pick);
    assertThat(plan.localQueues()).containsExactlyInAnyOrder("q1", "q2");
    assertThat(plan.peers()).isEmpty();
    assertThat(pick.sizes).as("no choice to make").isEmpty();
  }

  @Test
  void everyOtherSidecarsBroadcastNodeGetsOneCopyAndOurOwnNone() {
    DeliveryPlan plan = DeliveryPlan.of(List.of(service(B, node("t-a", 1), node("t-b", 2), node("t-self", 3))),
        ownIds("t-self"), Set.of(), new Script());
    assertThat(ids(plan)).containsExactly("t-a", "t-b");
    assertThat(plan.localQueues()).isEmpty();
  }

  @Test
  void aGroupOnlyOnPeersGoesToTheOneNodePickedInIdOrder() {
    Script pick = new Script(1, 0);
    Service q = service("q", node("t-c", 3), node("t-a", 1), node("t-b", 2));
    assertThat(ids(DeliveryPlan.of(List.of(q), ownIds(), Set.of(), pick))).containsExactly("t-b");
    assertThat(ids(DeliveryPlan.of(List.of(q), ownIds(), Set.of(), pick))).containsExactly("t-a");
    assertThat(pick.sizes).containsExactly(3, 3);
  }

  @Test
  void aGroupWithMembersHereCountsThisSidecarFirstAmongItsCandidates() {
    Service q = service("q", node("t-self", 9), node("t-b", 2));
    Script pick = new Script(0, 1);

    DeliveryPlan here = DeliveryPlan.of(List.of(q), ownIds("t-self"), Set.of("q"), pick);
    assertThat(here.localQueues()).containsExactly("q");
    assertThat(here.peers()).as("a group picked here is sent to no peer").isEmpty();

    DeliveryPlan there = DeliveryPlan.of(List.of(q), ownIds("t-self"), Set.of("q"), pick);
    assertThat(there.localQueues()).as("a group picked on a peer is left out here").isEmpty();
    assertThat(ids(there)).containsExactly("t-b");
    assertThat(pick.sizes).as("this sidecar and t-b, our own node not counted twice").containsExactly(2, 2);
  }

  @Test
  void aGroupWhoseNodeHasNotReachedTheRegistryYetIsStillACandidateHere() {
    Script pick = new Script(1);
    DeliveryPlan plan = DeliveryPlan.of(List.of(service("q", node("t-b", 2))), ownIds(), Set.of("q"), pick);
    assertThat(ids(plan)).containsExactly("t-b");
    assertThat(pick.sizes).containsExactly(2);
  }

  @Test
  void aNodeThePredicateCallsOursIsNeverAPeerEvenUnderAnotherId() {
    Predicate<Node> own = n -> n.port() == 9; // a stale node of ours, left behind at our address
    DeliveryPlan plan = DeliveryPlan.of(List.of(service(B, node("t-old", 9)), service("q", node("t-old2", 9))),
        own, Set.of(), new Script());
    assertThat(plan.peers()).isEmpty();
  }

  @Test
  void broadcastAndSeveralGroupsMixInOnePlan() {
    Script pick = new Script(0, 1);
    DeliveryPlan plan = DeliveryPlan.of(List.of(
            service(B, node("t-b1", 2), node("t-self-b", 9)),
            service("q1", node("t-q1-b", 2), node("t-q1-self", 9)),
            service("q2", node("t-q2-b", 2), node("t-q2-c", 3))),
        ownIds("t-self-b", "t-q1-self"), Set.of("q1"), pick);
    assertThat(plan.localQueues()).containsExactly("q1");
    assertThat(ids(plan)).containsExactlyInAnyOrder("t-b1", "t-q2-c");
  }

  @Test
  void acrossSidecarsEveryGroupGetsEachMessageExactlyOnceWhateverIsPicked() {
    // three sidecars; each has broadcast subscribers and members of q; B and C also of r
    List<Service> registry = List.of(
        service(B, node("a-b", 1), node("b-b", 2), node("c-b", 3)),
        service("q", node("a-q", 1), node("b-q", 2), node("c-q", 3)),
        service("r", node("b-r", 2), node("c-r", 3)));
    Map<Integer, Set<String>> localGroups = Map.of(1, Set.of("q"), 2, Set.of("q", "r"), 3, Set.of("q", "r"));
    Random random = new Random(42);
    for (int publish = 0; publish < 1000; publish++) {
      int on = 1 + random.nextInt(3);
      DeliveryPlan plan = DeliveryPlan.of(registry, n -> n.port() == on, localGroups.get(on), random::nextInt);
      for (String group : List.of("q", "r")) {
        long here = plan.localQueues().contains(group) ? 1 : 0;
        long there = plan.peers().stream().filter(n -> n.id().endsWith("-" + group)).count();
        assertThat(here + there).as("group %s, publish %d on sidecar %d", group, publish, on).isEqualTo(1);
      }
      assertThat(plan.peers().stream().filter(n -> n.id().endsWith("-b")).map(Node::port))
          .as("one copy to every other sidecar's broadcast node")
          .containsExactlyInAnyOrderElementsOf(List.of(1, 2, 3).stream().filter(p -> p != on).toList());
    }
  }
}
