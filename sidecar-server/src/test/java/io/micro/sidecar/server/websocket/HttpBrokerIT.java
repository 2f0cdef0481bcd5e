package io.micro.sidecar.server.websocket;

import static io.micro.sidecar.server.websocket.BrokerIT.body;
import static io.micro.sidecar.server.websocket.BrokerIT.take;
import static io.micro.sidecar.server.websocket.BrokerIT.ws;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.broker.HttpBroker;
import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.testing.EtcdCluster;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.TestSidecars;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code --broker=http} (contract §7.4): sidecars sharing one etcd deliver each other's messages. */
class HttpBrokerIT {

  static final Duration WAIT = Duration.ofSeconds(15);
  static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();
  static final String BROADCAST = "ff.http.broadcast";

  static EtcdCluster etcd;
  static SidecarConfig config;
  static Sidecar a;
  static Sidecar b;

  @BeforeAll
  static void start() {
    etcd = EtcdCluster.start(1);
    config = TestSidecars.local()
        .withRegistry(new RegistryConfig(RegistryConfig.Kind.ETCD, etcd.endpoints()))
        .withBroker(BrokerConfig.DEFAULT.withHttp(""))
        .withObservability(ObservabilityConfig.DEFAULT.withStats(true));
    a = Sidecar.start(config);
    b = Sidecar.start(config);
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
    etcd.close();
  }

  static HttpResponse<String> send(Sidecar s, String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + s.port() + path)).timeout(WAIT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      r.headers(headers);
    }
    return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until {@code s} sees {@code count} nodes of {@code topic:<topic>} in {@code version}. */
  static void awaitNodes(Sidecar s, String topic, String version, int count) {
    await().atMost(WAIT).until(() -> nodes(s.registry(), topic, version).size() == count);
  }

  static List<Node> nodes(Registry registry, String topic, String version) {
    return registry.lookup("topic:" + topic).block(WAIT).stream()
        .filter(svc -> svc.version().equals(version)).flatMap(svc -> svc.nodes().stream()).toList();
  }

  static void awaitEverywhere(String topic, String version, int count) {
    awaitNodes(a, topic, version, count);
    awaitNodes(b, topic, version, count);
  }

  static void publish(Sidecar s, String topic, String body) throws Exception {
    assertThat(send(s, "POST", "/broker?topic=" + topic, body).statusCode()).isEqualTo(200);
  }

  /** Every body that arrives within {@code quiet} of the previous one. */
  static List<String> drain(BlockingQueue<String> frames, Duration quiet) throws Exception {
    List<String> got = new ArrayList<>();
    for (String f; (f = frames.poll(quiet.toMillis(), TimeUnit.MILLISECONDS)) != null; ) {
      got.add(body(f));
    }
    return got;
  }

  @Test
  void aMessagePublishedOnEitherSidecarReachesSubscribersOnBoth() throws Exception {
    try (JdkWebSocket onA = JdkWebSocket.connect(ws(a, "/broker?topic=both"));
         JdkWebSocket onB = JdkWebSocket.connect(ws(b, "/broker?topic=both"))) {
      awaitEverywhere("both", BROADCAST, 2);

      assertThat(send(a, "POST", "/broker?topic=both", "from a", "Timestamp", "1499951537").statusCode()).isEqualTo(200);
      String fromA = take(onB.frames);
      assertThat(body(fromA)).isEqualTo("from a");
      assertThat(BrokerIT.JSON.readTree(fromA).get("Header").get("Timestamp").asText()).isEqualTo("1499951537");
      assertThat(BrokerIT.JSON.readTree(fromA).get("Header").has(HttpBroker.TOPIC_HEADER))
          .as("the topic header travels between sidecars only").isFalse();
      assertThat(body(take(onA.frames))).isEqualTo("from a");

      onB.sendText("from b over its socket");
      assertThat(body(take(onA.frames))).isEqualTo("from b over its socket");
      assertThat(body(take(onB.frames))).isEqualTo("from b over its socket");

      assertThat(drain(onA.frames, Duration.ofMillis(300))).as("exactly once").isEmpty();
      assertThat(drain(onB.frames, Duration.ofMillis(300))).as("exactly once").isEmpty();
    }
    awaitEverywhere("both", BROADCAST, 0);
  }

  @Test
  void hierarchicalTopicsAndTopicsWithSpacesWorkAcrossSidecars() throws Exception {
    for (String[] topic : new String[][] {{"devices/42/telemetry", "devices/42/telemetry"}, {"room one", "room%20one"}}) {
      try (JdkWebSocket onA = JdkWebSocket.connect(ws(a, "/broker?topic=" + topic[1]))) {
        awaitNodes(b, topic[0], BROADCAST, 1);
        publish(b, topic[1], "to " + topic[0]);
        assertThat(body(take(onA.frames))).isEqualTo("to " + topic[0]);
      }
      awaitEverywhere(topic[0], BROADCAST, 0);
    }
  }

  @Test
  void statsAndMetricsCountWhatTheHttpBrokerPublishesDeliversAndSendsToPeers() throws Exception {
    try (JdkWebSocket onA = JdkWebSocket.connect(ws(a, "/broker?topic=counted"))) {
      awaitNodes(b, "counted", BROADCAST, 1);
      for (int i = 0; i < 3; i++) {
        publish(b, "counted", "m" + i);
        assertThat(body(take(onA.frames))).isEqualTo("m" + i);
      }
    }
    JsonNode onB = BrokerIT.JSON.readTree(
        send(b, "GET", "/stats", null, "Accept", "application/json").body()).path("broker");
    JsonNode onA = BrokerIT.JSON.readTree(
        send(a, "GET", "/stats", null, "Accept", "application/json").body()).path("broker");
    // b published three messages and posted each to a; a handed each to its subscriber
    assertThat(onB.path("published").asLong()).isGreaterThanOrEqualTo(3);
    assertThat(onB.path("peers").path("delivered").asLong()).isGreaterThanOrEqualTo(3);
    assertThat(onA.path("delivered").asLong()).isGreaterThanOrEqualTo(3);
    String metrics = send(b, "GET", "/metrics", null).body();
    assertThat(metric(metrics, "sidecar_broker_peer_deliveries_total{outcome=\"delivered\"}")).isGreaterThanOrEqualTo(3);
    assertThat(metric(metrics, "sidecar_broker_messages_published_total")).isGreaterThanOrEqualTo(3);
  }

  /** The value of one series in Prometheus text; -1 when it is missing. */
  static double metric(String text, String series) {
    return text.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
        .findFirst().orElse(-1);
  }

  @Test
  void aQueueGroupSpanningBothSidecarsGetsEachMessageExactlyOnce() throws Exception {
    try (JdkWebSocket onA = JdkWebSocket.connect(ws(a, "/broker?topic=work&queue=q"));
         JdkWebSocket onB = JdkWebSocket.connect(ws(b, "/broker?topic=work&queue=q"))) {
      awaitEverywhere("work", "q", 2);

      Set<String> sent = new HashSet<>();
      for (int i = 0; i < 60; i++) {
        publish(i % 2 == 0 ? a : b, "work", "job-" + i);
        sent.add("job-" + i);
      }
      await().atMost(WAIT).until(() -> onA.frames.size() + onB.frames.size() >= 60);
      List<String> gotA = drain(onA.frames, Duration.ofMillis(300));
      List<String> gotB = drain(onB.frames, Duration.ofMillis(300));
      List<String> all = new ArrayList<>(gotA);
      all.addAll(gotB);
      assertThat(all).hasSize(60).doesNotHaveDuplicates();
      assertThat(new HashSet<>(all)).isEqualTo(sent);
      assertThat(gotA).as("the group spans both sidecars").isNotEmpty();
      assertThat(gotB).as("the group spans both sidecars").isNotEmpty();
    }
  }

  @Test
  void broadcastSubscribersAndSeveralGroupsMixAcrossSidecars() throws Exception {
    try (JdkWebSocket plainA = JdkWebSocket.connect(ws(a, "/broker?topic=mix"));
         JdkWebSocket plainB = JdkWebSocket.connect(ws(b, "/broker?topic=mix"));
         JdkWebSocket qA = JdkWebSocket.connect(ws(a, "/broker?topic=mix&queue=q"));
         JdkWebSocket qB = JdkWebSocket.connect(ws(b, "/broker?topic=mix&queue=q"));
         JdkWebSocket rB1 = JdkWebSocket.connect(ws(b, "/broker?topic=mix&queue=r"));
         JdkWebSocket rB2 = JdkWebSocket.connect(ws(b, "/broker?topic=mix&queue=r"))) {
      awaitEverywhere("mix", BROADCAST, 2);
      awaitEverywhere("mix", "q", 2);
      awaitEverywhere("mix", "r", 1);

      int n = 30;
      for (int i = 0; i < n; i++) {
        publish(i % 3 == 0 ? b : a, "mix", "m" + i);
      }
      await().atMost(WAIT).until(() -> plainA.frames.size() == n && plainB.frames.size() == n
          && qA.frames.size() + qB.frames.size() == n && rB1.frames.size() + rB2.frames.size() == n);
      Duration quiet = Duration.ofMillis(300);
      assertThat(drain(plainA.frames, quiet)).hasSize(n).doesNotHaveDuplicates();
      assertThat(drain(plainB.frames, quiet)).hasSize(n).doesNotHaveDuplicates();
      List<String> q = new ArrayList<>(drain(qA.frames, quiet));
      q.addAll(drain(qB.frames, quiet));
      assertThat(q).as("group q, split over both sidecars").hasSize(n).doesNotHaveDuplicates();
      List<String> r = new ArrayList<>(drain(rB1.frames, quiet));
      r.addAll(drain(rB2.frames, quiet));
      assertThat(r).as("group r, both members on b").hasSize(n).doesNotHaveDuplicates();
    }
  }

  @Test
  void aPeerThatWentAwayDoesNotBreakPublishing() throws Exception {
    try (JdkWebSocket onA = JdkWebSocket.connect(ws(a, "/broker?topic=gone"))) {
      // a sidecar that shut down cleanly
      Sidecar c = Sidecar.start(config);
      JdkWebSocket onC = JdkWebSocket.connect(ws(c, "/broker?topic=gone"));
      awaitNodes(a, "gone", BROADCAST, 2);
      publish(a, "gone", "before");
      assertThat(body(take(onC.frames))).isEqualTo("before");
      assertThat(body(take(onA.frames))).isEqualTo("before");
      c.close();
      onC.close();
      awaitNodes(a, "gone", BROADCAST, 1);

      // and one that crashed: its nodes are still registered, nothing answers there
      int dead;
      try (ServerSocket s = new ServerSocket(0)) {
        dead = s.getLocalPort();
      }
      Service crashed = new Service("topic:gone", BROADCAST, null, null,
          List.of(new Node("gone-crashed", "127.0.0.1", dead, Map.of("secure", "false"))));
      a.registry().register(crashed, Registry.NO_TTL).block(WAIT);
      awaitNodes(a, "gone", BROADCAST, 2);
      long failedBefore = ((HttpBroker) a.broker()).peerStats().failed();

      for (int i = 0; i < 5; i++) {
        long started = System.nanoTime();
        publish(a, "gone", "after-" + i);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("publishing does not wait for peers")
            .isLessThan(Duration.ofSeconds(2));
        assertThat(body(take(onA.frames))).isEqualTo("after-" + i);
      }
      await().atMost(WAIT).until(() -> ((HttpBroker) a.broker()).peerStats().failed() >= failedBefore + 5);
      a.registry().deregister(crashed).block(WAIT);
    }
  }

  @Test
  void subRefusesWhatIsNotAMessageForOneOfItsNodes() throws Exception {
    try (JdkWebSocket onB = JdkWebSocket.connect(ws(b, "/broker?topic=direct"))) {
      awaitNodes(b, "direct", BROADCAST, 1);
      String id = nodes(b.registry(), "direct", BROADCAST).get(0).id();
      assertThat(id).startsWith("direct-");

      HttpResponse<String> ok = send(b, "POST", "/_sub?id=" + id,
          "{\"Header\":{\":topic\":\"direct\",\"Content-Type\":\"text/plain\"},\"Body\":\"aGVsbG8gd29ybGQ=\"}",
          "Content-Type", "application/json");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(take(onB.frames)).isEqualTo(BrokerIT.HELLO_FRAME);

      assertThat(send(b, "POST", "/_sub?id=" + id, "not json").statusCode()).isEqualTo(400);
      assertThat(send(b, "POST", "/_sub?id=" + id, "{\"Body\":\"%%%\"}").statusCode()).isEqualTo(400);
      assertThat(send(b, "POST", "/_sub?id=" + id, "{\"Header\":{\":topic\":\"other\"}}").statusCode()).isEqualTo(400);
      assertThat(send(b, "POST", "/_sub", "{}").statusCode()).isEqualTo(400);
      assertThat(send(b, "POST", "/_sub?id=direct-nobody", "{}").statusCode()).isEqualTo(404);
      assertThat(send(b, "GET", "/_sub?id=" + id, null).statusCode()).isEqualTo(405);
      assertThat(drain(onB.frames, Duration.ofMillis(200))).isEmpty();
    }
    try (Sidecar memory = Sidecar.start(TestSidecars.local())) {
      assertThat(send(memory, "POST", "/_sub?id=x", "{}").statusCode()).as("memory broker").isEqualTo(404);
    }
  }
}
