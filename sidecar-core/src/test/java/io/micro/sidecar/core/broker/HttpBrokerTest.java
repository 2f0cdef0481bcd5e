package io.micro.sidecar.core.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.netty.http.client.HttpClient;

/** The receiving side and local share of the http broker; nothing here opens a socket. */
class HttpBrokerTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  private final Registry registry = Registry.memory();
  private final TopicRegistrar nodes = new TopicRegistrar(registry);
  private final HttpBroker broker = new HttpBroker(new SinkBroker(BrokerConfig.DEFAULT), registry, nodes,
      new PeerClient(HttpClient.create(), WAIT, 8, System::nanoTime), n -> 0);
  private final List<Disposable> subscriptions = new ArrayList<>();

  @AfterEach
  void close() {
    subscriptions.forEach(Disposable::dispose);
    broker.close();
    registry.close();
  }

  private List<Message> collect(String topic, String queue) {
    List<Message> got = new CopyOnWriteArrayList<>();
    subscriptions.add(broker.subscribe(topic, queue).subscribe(got::add));
    return got;
  }

  private static Message text(String body, String... header) {
    Map<String, String> h = new HashMap<>();
    for (int i = 0; i < header.length; i += 2) {
      h.put(header[i], header[i + 1]);
    }
    return Message.of(h, body.getBytes(StandardCharsets.UTF_8));
  }

  private String idOf(String topic, String version) {
    await().atMost(WAIT).until(() -> registry.lookup("topic:" + topic).block(WAIT).stream()
        .anyMatch(s -> s.version().equals(version)));
    return registry.lookup("topic:" + topic).block(WAIT).stream().filter(s -> s.version().equals(version))
        .findFirst().orElseThrow().nodes().get(0).id();
  }

  @Test
  void aMessageForTheBroadcastNodeReachesThePlainSubscribersOnlyWithoutItsTopicHeader() {
    broker.listening("127.0.0.1", 1, false);
    List<Message> plain1 = collect("t", null);
    List<Message> plain2 = collect("t", null);
    List<Message> queued = collect("t", "q");
    String id = idOf("t", DeliveryPlan.BROADCAST);

    assertThat(broker.receive(id, text("hi", ":topic", "t", "Content-Type", "text/plain")))
        .isEqualTo(HttpBroker.Receipt.DELIVERED);
    await().atMost(WAIT).until(() -> plain1.size() == 1 && plain2.size() == 1);
    assertThat(plain1.get(0)).isEqualTo(text("hi", "Content-Type", "text/plain"));
    // a probe to the queue's node, delivered after: the first thing the member gets
    assertThat(broker.receive(idOf("t", "q"), text("probe", ":topic", "t"))).isEqualTo(HttpBroker.Receipt.DELIVERED);
    await().atMost(WAIT).until(() -> !queued.isEmpty());
    assertThat(queued).containsExactly(text("probe"));
  }

  @Test
  void aMessageForAQueueNodeReachesOneMemberOfThatGroupAndNobodyElse() {
    broker.listening("127.0.0.1", 1, false);
    List<Message> plain = collect("t", null);
    List<Message> q1 = collect("t", "q");
    List<Message> q2 = collect("t", "q");
    List<Message> other = collect("t", "r");
    String id = idOf("t", "q");

    for (int i = 0; i < 10; i++) {
      assertThat(broker.receive(id, text("m" + i, ":topic", "t"))).isEqualTo(HttpBroker.Receipt.DELIVERED);
    }
    await().atMost(WAIT).until(() -> q1.size() + q2.size() == 10);
    assertThat(q1).isNotEmpty();
    assertThat(q2).isNotEmpty();
    assertThat(plain).isEmpty();
    assertThat(other).isEmpty();
  }

  @Test
  void anUnknownNodeOrAnotherTopicIsRefused() {
    broker.listening("127.0.0.1", 1, false);
    collect("t", null);
    String id = idOf("t", DeliveryPlan.BROADCAST);
    assertThat(broker.receive("t-nobody", text("x"))).isEqualTo(HttpBroker.Receipt.UNKNOWN_NODE);
    assertThat(broker.receive(id, text("x", ":topic", "other"))).isEqualTo(HttpBroker.Receipt.WRONG_TOPIC);
  }

  @Test
  void publishingWithOnlyOurOwnNodesRegisteredDeliversEverythingHereAndSendsNothing() {
    broker.listening("127.0.0.1", 1, false);
    List<Message> plain = collect("t", null);
    List<Message> queued = collect("t", "q");
    idOf("t", "q");
    idOf("t", DeliveryPlan.BROADCAST);

    broker.publish("t", text("hello")).block(WAIT);
    await().atMost(WAIT).until(() -> plain.size() == 1 && queued.size() == 1);
    assertThat(plain.get(0).header()).doesNotContainKey(HttpBroker.TOPIC_HEADER);
    assertThat(broker.peerStats()).isEqualTo(new PeerStats(0, 0, 0, 0));
  }

  @Test
  void aGroupWithThisSidecarPickedAmongPeersIsDeliveredHere() {
    broker.listening("127.0.0.1", 1, false);
    List<Message> queued = collect("t", "q");
    idOf("t", "q");
    // a peer's member of q with an id that sorts first; the scripted pick (always 0) takes this sidecar,
    // which comes first among the candidates
    registry.register(new Service("topic:t", "q", null, null,
        List.of(new Node("t-a-peer", "127.0.0.1", 2, null))), Registry.NO_TTL).block(WAIT);
    broker.publish("t", text("here")).block(WAIT);
    await().atMost(WAIT).until(() -> queued.size() == 1);
  }

  @Test
  void leavingDeregistersTheNode() {
    broker.listening("127.0.0.1", 1, false);
    subscriptions.add(broker.subscribe("gone", null).subscribe());
    String id = idOf("gone", DeliveryPlan.BROADCAST);
    subscriptions.remove(0).dispose();
    await().atMost(WAIT).until(() -> registry.lookup("topic:gone").block(WAIT).isEmpty());
    assertThat(broker.receive(id, text("late"))).isEqualTo(HttpBroker.Receipt.UNKNOWN_NODE);
  }
}
