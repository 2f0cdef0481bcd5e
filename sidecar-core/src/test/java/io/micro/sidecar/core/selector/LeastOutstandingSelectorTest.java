package io.micro.sidecar.core.selector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.NodeSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeastOutstandingSelectorTest {

  private static final Node A = new Node("a", "10.0.0.1", 9001, null);
  private static final Node B = new Node("b", "10.0.0.2", 9002, null);
  private static final Node C = new Node("c", "10.0.0.3", 9003, null);
  private static final List<Node> ABC = List.of(A, B, C);

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final ScriptedRandom random = new ScriptedRandom();
  private final Selector selector = Selector.leastOutstanding(
      new SelectorConfig(3, Duration.ofSeconds(30), nanos::get, random));

  @AfterEach
  void everyScriptedDrawWasUsed() {
    random.assertUsedUp();
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  private Selector.Lease select(List<Node> candidates, String... exclude) {
    Optional<Selector.Lease> lease = selector.select(candidates, Set.of(exclude));
    assertThat(lease).as("a node from %s", candidates).isPresent();
    return lease.get();
  }

  private String pick(List<Node> candidates, String... exclude) {
    Selector.Lease lease = select(candidates, exclude);
    lease.release();
    return lease.node().id();
  }

  private void fail(Node node, int times) {
    for (int i = 0; i < times; i++) {
      select(List.of(node)).failure();
    }
  }

  // ---- node sets ----

  @Test
  void aNodeSetDrawsAsItsListDoesAndSharesEachNodesStateWithEveryOtherSetOfIt() {
    NodeSet set = NodeSet.ofNodes(ABC);
    // (0,1) = a,c: a on a tie; on the second set (2,0) = a,c again, c free
    random.then(0, 1, 2, 0);
    Selector.Lease onA = selector.selectNow(set, null);
    assertThat(onA.node()).isEqualTo(A);
    assertThat(selector.inFlight("a")).isEqualTo(1);
    // a second set of the same nodes (the registry's after a membership change) knows a is busy
    Selector.Lease next = selector.selectNow(NodeSet.ofNodes(List.of(C, B, A)), null);
    assertThat(next.node()).as("c and a drawn, a busy").isEqualTo(C);
    onA.release();
    next.release();

    fail(B, 3);
    assertThat(selector.isEjected("b")).isTrue();
    assertThat(pickFrom(set, "a")).as("a excluded, b ejected").isEqualTo("c");
    assertThat(selector.selectNow(NodeSet.ofNodes(List.of(A)), Set.of("a"))).isNull();
    assertThat(selector.selectNow(NodeSet.EMPTY, null)).isNull();
  }

  private String pickFrom(NodeSet set, String... exclude) {
    Selector.Lease lease = selector.selectNow(set, Set.of(exclude));
    assertThat(lease).isNotNull();
    lease.release();
    return lease.node().id();
  }

  // ---- power of two choices ----

  @Test
  void aSingleCandidateIsTakenWithoutADraw() {
    assertThat(pick(List.of(B))).isEqualTo("b");
    assertThat(random.bounds).isEmpty();
  }

  @Test
  void drawsTwoDistinctCandidatesAndATieGoesToTheFirstDrawn() {
    // second draw below size-1, shifted past the first: (0,1) = a,c  (1,1) = b,c  (2,0) = c,a  (2,1) = c,b
    random.then(0, 1, 1, 1, 2, 0, 2, 1);
    assertThat(pick(ABC)).isEqualTo("a");
    assertThat(pick(ABC)).isEqualTo("b");
    assertThat(pick(ABC)).isEqualTo("c");
    assertThat(pick(ABC)).isEqualTo("c");
    assertThat(random.bounds).containsExactly(3, 2, 3, 2, 3, 2, 3, 2);
  }

  @Test
  void aNodeWithMoreInFlightLosesTheDraw() {
    Selector.Lease held1 = select(List.of(A));
    Selector.Lease held2 = select(List.of(A));
    Selector.Lease heldC = select(List.of(C));
    assertThat(selector.inFlight("a")).isEqualTo(2);

    random.then(0, 0); // a (2) against b (0)
    assertThat(pick(ABC)).isEqualTo("b");
    random.then(1, 0); // b (0) against a (2)
    assertThat(pick(ABC)).isEqualTo("b");
    random.then(0, 1); // a (2) against c (1)
    assertThat(pick(ABC)).isEqualTo("c");
    random.then(2, 1); // c (1) against b (0)
    assertThat(pick(ABC)).isEqualTo("b");

    held1.success();
    held2.success();
    random.then(2, 0); // c (1) against a (0): a's count fell back
    assertThat(pick(ABC)).isEqualTo("a");
    heldC.release();
  }

  @Test
  void aSelectedNodeCountsUntilItsLeaseEnds() {
    Selector.Lease first = select(List.of(A));
    random.then(0, 0); // a (1) against b (0)
    Selector.Lease second = select(ABC);
    assertThat(second.node()).isEqualTo(B);
    random.then(0, 0); // a (1) against b (1): tie, first drawn
    Selector.Lease third = select(ABC);
    assertThat(third.node()).isEqualTo(A);
    assertThat(selector.inFlight("a")).isEqualTo(2);
    assertThat(selector.inFlight("b")).isEqualTo(1);
    first.success();
    second.failure();
    third.release();
    assertThat(selector.inFlight("a")).isZero();
    assertThat(selector.inFlight("b")).isZero();
  }

  @Test
  void excludedNodesAreNeverDrawn() {
    random.then(1, 0); // among b, c: c then b
    assertThat(pick(ABC, "a")).isEqualTo("c");
    assertThat(pick(ABC, "a", "c")).isEqualTo("b");
    assertThat(random.bounds).containsExactly(2, 1);
  }

  @Test
  void nothingToChooseIsEmpty() {
    assertThat(selector.select(List.of(), Set.of())).isEmpty();
    assertThat(selector.select(ABC, Set.of("a", "b", "c"))).isEmpty();
    random.then(0, 0);
    Selector.Lease lease = selector.select(ABC, null).orElseThrow(); // null excludes nothing
    assertThat(lease.node()).isEqualTo(A);
    lease.release();
  }

  // ---- ending leases ----

  @Test
  void everyEndingUncountsExactlyOnce() {
    for (int ending = 0; ending < 3; ending++) {
      Selector.Lease lease = select(List.of(A));
      assertThat(selector.inFlight("a")).isEqualTo(1);
      end(lease, ending);
      assertThat(selector.inFlight("a")).isZero();
      // doFinally after an explicit ending, or two racing endings: nothing more happens
      lease.release();
      lease.success();
      lease.failure();
      lease.release();
      assertThat(selector.inFlight("a")).isZero();
    }
    assertThat(selector.isEjected("a")).isFalse();
  }

  private static void end(Selector.Lease lease, int how) {
    switch (how) {
      case 0 -> lease.success();
      case 1 -> lease.failure();
      default -> lease.release();
    }
  }

  @Test
  void onlyTheFirstEndingCountsTowardsEjection() {
    for (int i = 0; i < 5; i++) {
      Selector.Lease lease = select(List.of(A));
      lease.release();
      lease.failure();
    }
    assertThat(selector.isEjected("a")).isFalse();
  }

  @Test
  void unknownNodesHaveNothingInFlightAndAreNotEjected() {
    assertThat(selector.inFlight("nobody")).isZero();
    assertThat(selector.isEjected("nobody")).isFalse();
    assertThat(selector.inFlight(null)).isZero();
  }

  // ---- ejection ----

  @Test
  void consecutiveFailuresEjectTheNodeUntilTheCoolDownEnds() {
    fail(A, 2);
    assertThat(selector.isEjected("a")).isFalse();
    fail(A, 1);
    assertThat(selector.isEjected("a")).isTrue();

    // only b and c take part in the draw while a is out
    random.then(0, 0, 1, 0);
    assertThat(pick(ABC)).isEqualTo("b");
    assertThat(pick(ABC)).isEqualTo("c");
    assertThat(pick(List.of(A, B))).isEqualTo("b");
    assertThat(random.bounds).containsExactly(2, 1, 2, 1);

    advance(Duration.ofSeconds(30).minusNanos(1));
    assertThat(selector.isEjected("a")).isTrue();
    advance(Duration.ofNanos(1));
    assertThat(selector.isEjected("a")).isFalse();
    random.then(0, 1); // a is drawn again
    assertThat(pick(ABC)).isEqualTo("a");
  }

  @Test
  void aSuccessBreaksTheRun() {
    fail(A, 2);
    select(List.of(A)).success();
    fail(A, 2);
    assertThat(selector.isEjected("a")).isFalse();
    fail(A, 1);
    assertThat(selector.isEjected("a")).isTrue();
  }

  @Test
  void aReturnedNodeIsOnProbationUntilItSucceeds() {
    fail(A, 3);
    advance(Duration.ofSeconds(30));
    assertThat(selector.isEjected("a")).isFalse();
    fail(A, 1); // one failure after the return ejects it again
    assertThat(selector.isEjected("a")).isTrue();

    advance(Duration.ofSeconds(30));
    select(List.of(A)).success(); // a success restores it fully
    fail(A, 2);
    assertThat(selector.isEjected("a")).isFalse();
    fail(A, 1);
    assertThat(selector.isEjected("a")).isTrue();
  }

  @Test
  void failuresWhileEjectedDoNotExtendTheEjection() {
    List<Selector.Lease> inFlight = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      inFlight.add(select(List.of(A)));
    }
    for (int i = 0; i < 3; i++) {
      inFlight.get(i).failure();
    }
    assertThat(selector.isEjected("a")).isTrue();
    advance(Duration.ofSeconds(20));
    inFlight.get(3).failure(); // a call that was already on its way when a was ejected
    advance(Duration.ofSeconds(10));
    assertThat(selector.isEjected("a")).isFalse();
    inFlight.get(4).release();
    assertThat(selector.inFlight("a")).isZero();
    assertThat(selector.ejections()).as("the late failure did not count a second ejection").isEqualTo(1);
  }

  @Test
  void totalsCountCallsInFlightOverEveryNodeAndEachEjection() {
    Selector.Lease a = select(List.of(A));
    Selector.Lease b = select(List.of(B));
    assertThat(selector.inFlight()).isEqualTo(2);
    a.success();
    a.failure(); // a lease ends once
    assertThat(selector.inFlight()).isEqualTo(1);
    b.release();
    assertThat(selector.inFlight()).isZero();
    fail(A, 3);
    assertThat(selector.ejections()).isEqualTo(1);
    advance(Duration.ofSeconds(30));
    fail(A, 1);
    assertThat(selector.ejections()).isEqualTo(2);
    assertThat(selector.inFlight()).isZero();
  }

  @Test
  void aSuccessWhileEjectedDoesNotEndTheEjectionEarly() {
    Selector.Lease late = select(List.of(A));
    fail(A, 3);
    late.success();
    assertThat(selector.isEjected("a")).isTrue();
    advance(Duration.ofSeconds(30));
    fail(A, 1); // but it reset the run: the node is no longer on probation
    assertThat(selector.isEjected("a")).isFalse();
  }

  // ---- panic mode ----

  @Test
  void whenEveryNodeIsEjectedTheChoiceIsMadeAmongThemAnyway() {
    fail(A, 3);
    fail(B, 3);
    fail(C, 3);
    Selector.Lease held = select(List.of(B));
    random.then(1, 0); // b (1) against a (0), in candidate order
    assertThat(pick(ABC)).isEqualTo("a");
    random.then(0, 1); // a (0) against c (0): tie
    assertThat(pick(ABC)).isEqualTo("a");
    held.release();
  }

  @Test
  void panicModeStillHonoursExclusions() {
    fail(B, 3);
    fail(C, 3);
    // a is healthy but excluded (a retry after it failed): the choice is among the ejected b and c
    random.then(1, 0);
    assertThat(pick(ABC, "a")).isEqualTo("c");
    assertThat(pick(ABC, "a", "c")).isEqualTo("b");
    assertThat(selector.select(ABC, Set.of("a", "b", "c"))).isEmpty();
  }

  @Test
  void panicOnlyWhenNoHealthyNodeIsLeft() {
    fail(A, 3);
    fail(B, 3);
    assertThat(pick(ABC)).isEqualTo("c");
    assertThat(random.bounds).isEmpty();
  }

  // ---- forgetting ----

  @Test
  void nodesUnseenForTenMinutesAreForgotten() {
    fail(A, 2);
    Selector.Lease held = select(List.of(A));
    advance(Duration.ofMinutes(10));
    assertThat(selector.inFlight("a")).isZero();
    fail(A, 1); // a fresh start: one failure, not the third
    assertThat(selector.isEjected("a")).isFalse();
    held.release(); // ending a lease on a forgotten node is harmless
    assertThat(selector.inFlight("a")).isZero();
  }

  @Test
  void beingACandidateKeepsANodeRemembered() {
    fail(A, 2);
    advance(Duration.ofMinutes(9));
    fail(A, 1);
    assertThat(selector.isEjected("a")).isTrue();
  }

  @Test
  void lookingAtANodeDoesNotKeepItRemembered() {
    fail(A, 2);
    advance(Duration.ofMinutes(6));
    assertThat(selector.inFlight("a")).isZero();
    assertThat(selector.isEjected("a")).isFalse();
    advance(Duration.ofMinutes(5));
    fail(A, 1);
    assertThat(selector.isEjected("a")).isFalse();
  }

  // ---- configuration ----

  @Test
  void defaultsAreFiveFailuresAndThirtySeconds() {
    SelectorConfig d = SelectorConfig.defaults();
    assertThat(d.ejectAfterFailures()).isEqualTo(5);
    assertThat(d.ejectFor()).isEqualTo(Duration.ofSeconds(30));
    int n = d.random().nextInt(3);
    assertThat(n).isBetween(0, 2);
    Selector s = Selector.leastOutstanding();
    for (int i = 0; i < 4; i++) {
      s.select(List.of(A), Set.of()).orElseThrow().failure();
    }
    assertThat(s.isEjected("a")).isFalse();
    s.select(List.of(A), Set.of()).orElseThrow().failure();
    assertThat(s.isEjected("a")).isTrue();
  }

  @Test
  void refusesSettingsThatCannotWork() {
    assertThatThrownBy(() -> new SelectorConfig(0, Duration.ofSeconds(1), nanos::get, random))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ejectAfterFailures: 0 (expected: at least 1)");
    assertThatThrownBy(() -> new SelectorConfig(1, Duration.ZERO, nanos::get, random))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ejectFor: PT0S (expected: a positive duration)");
    assertThatThrownBy(() -> new SelectorConfig(1, Duration.ofSeconds(1), null, random))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new SelectorConfig(1, Duration.ofSeconds(1), nanos::get, null))
        .isInstanceOf(NullPointerException.class);
  }

  // ---- concurrency ----

  @Test
  void concurrentSelectionsAndEndingsLeaveNothingInFlight() throws Exception {
    List<Node> nodes = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      nodes.add(new Node("n" + i, "10.0.1." + i, 8000 + i, null));
    }
    Selector shared = Selector.leastOutstanding(
        new SelectorConfig(3, Duration.ofSeconds(30), nanos::get, SelectorConfig.defaults().random()));
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          ThreadLocalRandom r = ThreadLocalRandom.current();
          List<Selector.Lease> held = new ArrayList<>();
          int selected = 0;
          for (int i = 0; i < 20_000; i++) {
            Set<String> exclude = r.nextInt(10) == 0 ? Set.of("n" + r.nextInt(6)) : Set.of();
            Optional<Selector.Lease> lease = shared.select(nodes, exclude);
            if (lease.isPresent()) {
              selected++;
              held.add(lease.get());
            }
            if (held.size() > 4 || r.nextBoolean()) {
              Selector.Lease l = held.remove(r.nextInt(held.size()));
              end(l, r.nextInt(3));
              if (r.nextInt(4) == 0) {
                end(l, r.nextInt(3)); // a second ending, as doFinally after an explicit one
              }
            }
            if (i % 1000 == 0) {
              nanos.addAndGet(Duration.ofSeconds(1).toNanos());
            }
          }
          held.forEach(Selector.Lease::release);
          return selected;
        }));
      }
      int total = 0;
      for (Future<Integer> f : done) {
        total += f.get(60, TimeUnit.SECONDS);
      }
      assertThat(total).isEqualTo(threads * 20_000);
    } finally {
      pool.shutdownNow();
    }
    for (Node n : nodes) {
      assertThat(shared.inFlight(n.id())).as("in flight on %s", n.id()).isZero();
    }
  }
}
