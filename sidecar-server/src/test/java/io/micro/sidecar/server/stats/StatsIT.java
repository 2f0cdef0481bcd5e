package io.micro.sidecar.server.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.testing.Closing;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.TestSidecars;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /stats} and {@code /metrics} against a sidecar on port 0 (contract §8). */
class StatsIT {

  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension
  final Closing resources = new Closing();
  private Sidecar sidecar;

  private Sidecar sidecar(ObservabilityConfig o) {
    sidecar = Sidecar.start(TestSidecars.local().withObservability(o));
    resources.own(sidecar);
    return sidecar;
  }

  private JsonRpcApp app(String id) {
    JsonRpcApp app = JsonRpcApp.start(id);
    resources.own(app);
    return app;
  }

  private void register(String service, Node node) {
    sidecar.registry().register(new Service(service, "", null, null, List.of(node)), Registry.NO_TTL).block(WAIT);
  }

  private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
        .timeout(WAIT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The mix every test here makes: 3 × 200, 2 × 404, 1 × 405 and 1 × 500 from a failing app. */
  private void knownMix() throws Exception {
    JsonRpcApp failing = app("failing-1").failing(true);
    register("go.micro.srv.failing", failing.node());
    for (int i = 0; i < 3; i++) {
      assertThat(send("GET", "/registry", null).statusCode()).isEqualTo(200);
    }
    assertThat(send("GET", "/", null).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/registry?service=nope", null).statusCode()).isEqualTo(404);
    assertThat(send("PUT", "/rpc", "x").statusCode()).isEqualTo(405);
    assertThat(send("POST", "/rpc", "{\"service\":\"go.micro.srv.failing\",\"method\":\"Foo.Call\",\"request\":{}}",
        "Content-Type", "application/json").statusCode()).isEqualTo(500);
  }

  private static long sum(JsonNode counters, String key) {
    long n = 0;
    for (JsonNode c : counters) {
      n += key == null ? c.path("total_reqs").asLong() : c.path("status_codes").path(key).asLong();
    }
    return n;
  }

  /**
   * Every /stats request counts once it has been answered, so the i-th JSON fetch (from 0) sees the mix
   * plus i earlier 200s of its own route.
   */
  @Test
  void jsonCountsTheRealStatusOfEveryResponseExactly() throws Exception {
    sidecar(ObservabilityConfig.DEFAULT.withStats(true));
    knownMix();
    AtomicInteger fetches = new AtomicInteger();
    JsonNode[] last = new JsonNode[1];
    await().atMost(WAIT).untilAsserted(() -> {
      HttpResponse<String> r = send("GET", "/stats", null, "Accept", "application/json");
      int earlier = fetches.getAndIncrement();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
      JsonNode s = JSON.readTree(r.body());
      last[0] = s;
      JsonNode counters = s.path("counters");
      assertThat(sum(counters, "20x")).isEqualTo(3 + earlier);
      assertThat(sum(counters, "40x")).isEqualTo(3);
      assertThat(sum(counters, "50x")).isEqualTo(1);
      assertThat(sum(counters, null)).isEqualTo(7 + earlier);
    });
    JsonNode s = last[0];
    long now = System.currentTimeMillis() / 1000;
    assertThat(s.path("started").asLong()).isBetween(now - 60, now);
    assertThat(s.path("memory").asText()).matches("\\d+\\.\\d\\dmb");
    assertThat(s.path("threads").asInt()).isPositive();
    assertThat(s.path("gc_pause").asText()).matches("\\d+\\.\\d{3}ms");
    JsonNode counters = s.path("counters");
    assertThat(counters.size()).isBetween(1, 24);
    for (int i = 1; i < counters.size(); i++) {
      assertThat(counters.get(i).path("timestamp").asLong() - counters.get(i - 1).path("timestamp").asLong()).isEqualTo(5);
    }
    assertThat(s.path("latency_ms").path("count").asLong()).isGreaterThanOrEqualTo(7);
    JsonNode svc = s.path("services").get(0);
    assertThat(svc.path("service").asText()).isEqualTo("go.micro.srv.failing");
    assertThat(svc.path("calls").asLong()).isEqualTo(1);
    assertThat(svc.path("errors").asLong()).isEqualTo(1);
    assertThat(svc.path("outcomes").path("error").asLong()).isEqualTo(1);
    assertThat(s.path("broker").path("topics").asInt()).isZero();
    assertThat(s.path("registry").path("cache_age_seconds").asDouble()).isZero();
    assertThat(s.path("selector").path("in_flight").asLong()).isZero();
    assertThat(s.path("heap").path("used_bytes").asLong()).isPositive();
  }

  @Test
  void withoutJsonHeadersStatsIsTheSelfContainedDashboard() throws Exception {
    sidecar(ObservabilityConfig.DEFAULT.withStats(true));
    HttpResponse<String> r = send("GET", "/stats", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(r.body()).contains("<title>micro sidecar").contains("fetch(")
        .doesNotContain("<script src").doesNotContain("stylesheet").doesNotContain("https://");
    // the original's other trigger for JSON
    HttpResponse<String> json = send("GET", "/stats", null, "Content-Type", "application/json");
    assertThat(JSON.readTree(json.body()).has("counters")).isTrue();
  }

  @Test
  void withoutEnableStatsTheCatchAllKeepsStats() throws Exception {
    sidecar(ObservabilityConfig.DEFAULT.withStats(false));
    HttpResponse<String> r = send("GET", "/stats", null, "Accept", "application/json");
    assertThat(r.statusCode()).as("the catch-all RPC route answers non-POST with 405").isEqualTo(405);
    assertThat(r.body()).contains("go.micro.rpc");
  }

  @Test
  void metricsParseAsPrometheusTextAndHoldEverySeries() throws Exception {
    sidecar(ObservabilityConfig.DEFAULT);
    knownMix();
    await().atMost(WAIT).untilAsserted(() -> {
      List<PrometheusText.Sample> samples = metrics();
      assertThat(value(samples, "sidecar_http_server_requests_seconds_count", Map.of("route", "registry", "status", "2xx"))).isEqualTo(3);
      assertThat(value(samples, "sidecar_http_server_requests_seconds_count", Map.of("route", "registry", "status", "4xx"))).isEqualTo(1);
      assertThat(value(samples, "sidecar_http_server_requests_seconds_count", Map.of("route", "catch-all", "status", "4xx"))).isEqualTo(1);
      assertThat(value(samples, "sidecar_http_server_requests_seconds_count", Map.of("route", "rpc", "status", "4xx"))).isEqualTo(1);
      assertThat(value(samples, "sidecar_http_server_requests_seconds_count", Map.of("route", "rpc", "status", "5xx"))).isEqualTo(1);
      assertThat(value(samples, "sidecar_http_server_requests_seconds_bucket", Map.of("route", "registry", "status", "2xx", "le", "+Inf"))).isEqualTo(3);
      assertThat(value(samples, "sidecar_app_calls_total", Map.of("service", "go.micro.srv.failing", "outcome", "error"))).isEqualTo(1);
      assertThat(value(samples, "sidecar_app_ejections_total", Map.of())).isZero();
      assertThat(value(samples, "sidecar_app_inflight", Map.of())).isZero();
    });
    List<PrometheusText.Sample> samples = metrics();
    assertThat(samples).extracting(PrometheusText.Sample::name).contains(
        "sidecar_app_pool_connections", "sidecar_app_pool_nodes",
        "sidecar_broker_messages_published_total", "sidecar_broker_messages_delivered_total",
        "sidecar_broker_messages_dropped_total", "sidecar_broker_topics", "sidecar_broker_subscribers",
        "sidecar_registry_cache_age_seconds", "jvm_memory_used_bytes", "jvm_gc_memory_allocated_bytes_total",
        "jvm_threads_live_threads", "jvm_buffer_memory_used_bytes", "netty_allocator_memory_used_bytes",
        "netty_direct_memory_used_bytes", "process_uptime_seconds");
    assertThat(samples.stream().filter(s -> s.name().equals("sidecar_app_pool_connections")).map(s -> s.labels().get("state")))
        .containsExactlyInAnyOrder("active", "idle", "pending");
    // the failing node answered: its pooled connection is idle again
    assertThat(value(samples, "sidecar_app_pool_nodes", Map.of())).isEqualTo(1);
    // no label carries a node id or a raw path
    assertThat(samples).allSatisfy(s -> assertThat(s.labels()).doesNotContainKeys("node", "path", "uri", "topic"));
  }

  @Test
  void metricsCanBeTurnedOffAndThenBelongToTheCatchAll() throws Exception {
    sidecar(new ObservabilityConfig(false, false, true, false));
    assertThat(send("GET", "/metrics", null).statusCode()).isEqualTo(405);
  }

  private List<PrometheusText.Sample> metrics() throws Exception {
    HttpResponse<String> r = send("GET", "/metrics", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue(MetricsHandler.CONTENT_TYPE);
    return PrometheusText.parse(r.body());
  }

  private static double value(List<PrometheusText.Sample> samples, String name, Map<String, String> labels) {
    return samples.stream()
        .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
        .mapToDouble(PrometheusText.Sample::value)
        .reduce(Double::sum)
        .orElseThrow(() -> new AssertionError("no sample " + name + labels));
  }
}
