package io.micro.sidecar.core.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TopicRegistrarTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  private final Registry registry = Registry.memory();
  private final TopicRegistrar nodes = new TopicRegistrar(registry);

  @AfterEach
  void close() {
    nodes.close();
    registry.close();
  }

  private List<Service> lookup(String topic) {
    return registry.lookup("topic:" + topic).block(WAIT);
  }

  private List<Node> nodesOf(String topic, String version) {
    return lookup(topic).stream().filter(s -> s.version().equals(version)).flatMap(s -> s.nodes().stream()).toList();
  }

  @Test
  void registersOneNodePerTopicAndQueueOnlyOnceTheAddressIsKnown() {
    nodes.join("t", null);
    nodes.join("t", null);
    nodes.join("t", "q");
    await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> lookup("t").isEmpty());

    nodes.listening("10.0.0.7", 8081, false);
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(nodesOf("t", DeliveryPlan.BROADCAST)).singleElement().satisfies(n -> {
        assertThat(n.id()).startsWith("t-");
        assertThat(n.address()).isEqualTo("10.0.0.7");
        assertThat(n.port()).isEqualTo(8081);
        assertThat(nodes.keyOf(n.id())).isEqualTo(new TopicRegistrar.Key("t", DeliveryPlan.BROADCAST));
        assertThat(nodes.own(n)).isTrue();
      });
      assertThat(nodesOf("t", "q")).singleElement().satisfies(n ->
          assertThat(nodes.keyOf(n.id())).isEqualTo(new TopicRegistrar.Key("t", "q")));
    });
  }

  @Test
  void theLastSubscriberLeavingDeregistersAndForgetsTheNode() {
    nodes.listening("127.0.0.1", 9000, false);
    nodes.join("t", "q");
    nodes.join("t", "q");
    await().atMost(WAIT).until(() -> nodesOf("t", "q").size() == 1);
    String id = nodesOf("t", "q").get(0).id();

    nodes.leave("t", "q");
    await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> nodesOf("t", "q").size() == 1);
    nodes.leave("t", "q");
    await().atMost(WAIT).until(() -> lookup("t").isEmpty());
    await().atMost(WAIT).until(() -> nodes.keyOf(id) == null);

    nodes.join("t", "q");
    await().atMost(WAIT).until(() -> nodesOf("t", "q").size() == 1);
    assertThat(nodesOf("t", "q").get(0).id()).as("a fresh node").isNotEqualTo(id);
  }

  @Test
  void aBurstOfJoinsAndLeavesEndsRegisteredExactlyWhenSomeoneIsLeft() {
    nodes.listening("127.0.0.1", 9000, false);
    for (int i = 0; i < 50; i++) {
      nodes.join("t", null);
      nodes.leave("t", null);
    }
    nodes.join("t", null);
    await().atMost(WAIT).until(() -> nodesOf("t", DeliveryPlan.BROADCAST).size() == 1);
    await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> nodesOf("t", DeliveryPlan.BROADCAST).size() == 1);
  }

  @Test
  void closingDeregistersEverything() {
    nodes.listening("127.0.0.1", 9000, false);
    nodes.join("a", null);
    nodes.join("b", "q");
    await().atMost(WAIT).until(() -> lookup("a").size() == 1 && lookup("b").size() == 1);
    nodes.close();
    assertThat(lookup("a")).isEmpty();
    assertThat(lookup("b")).isEmpty();
  }

  @Test
  void closingRightAfterTheLastSubscriberLeftStillDeregisters() {
    nodes.listening("127.0.0.1", 9000, false);
    for (int i = 0; i < 20; i++) {
      String topic = "t" + i;
      nodes.join(topic, null);
      await().atMost(WAIT).until(() -> lookup(topic).size() == 1);
      nodes.leave(topic, null);
    }
    nodes.close();
    for (int i = 0; i < 20; i++) {
      assertThat(lookup("t" + i)).as("t%d", i).isEmpty();
    }
  }

  @Test
  void aNodeAtOurOwnAddressIsOursWhateverItsId() {
    nodes.listening("127.0.0.1", 9000, false);
    assertThat(nodes.own(new Node("t-stale", "127.0.0.1", 9000, null))).isTrue();
    assertThat(nodes.own(new Node("t-peer", "127.0.0.1", 9001, null))).isFalse();
  }
}
