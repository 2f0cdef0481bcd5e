package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.config.AppConfig;
import io.micro.sidecar.core.config.HealthConfig;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.CapturedStderr;
import io.micro.sidecar.server.testing.TestSidecars;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** Health checking of a real app whose health can be flipped (contract §6). */
class HealthIT {

  /** 0 = hang, anything else = that status. */
  private final AtomicInteger healthStatus = new AtomicInteger(200);
  /** Health probes of the sidecar each test starts. */
  private final AtomicInteger probes = new AtomicInteger();

  private final HttpClient http = HttpClient.newHttpClient();
  private DisposableServer app;
  private Sidecar sidecar;

  @BeforeEach
  void start() {
    app = HttpServer.create().host("127.0.0.1").port(0)
        .route(r -> r.get("/_status/health", (req, res) -> {
          probes.incrementAndGet();
          int status = healthStatus.get();
          return status == 0 ? Mono.never() : res.status(status).sendString(Mono.just("status " + status)).then();
        }))
        .bindNow();
    HealthConfig health = new HealthConfig(Optional.of(
        URI.create("http://127.0.0.1:" + app.port() + "/_status/health")),
        Duration.ofMillis(100), Duration.ofMillis(300), 3, 1);
    sidecar = Sidecar.start(TestSidecars.local()
        .withApp(new AppConfig("foo", new HostPort("127.0.0.1", app.port())))
        .withHealth(health));
  }

  @AfterEach
  void stop() {
    sidecar.close();
    app.disposeNow();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private boolean registered() throws Exception {
    return get("/registry?service=foo").statusCode() == 200;
  }

  @Test
  void aStartThatFailsLeavesNoHealthChecksBehind() {
    // one failed probe is enough for a checker to log the node by name
    HealthConfig health = new HealthConfig(Optional.of(
        URI.create("http://127.0.0.1:" + app.port() + "/_status/health")), Duration.ofMillis(100),
        Duration.ofMillis(300), 1, 1);
    try (CapturedStderr stderr = CapturedStderr.install()) {
      // the port is taken (by this test's sidecar): binding fails after the app's registration began
      assertThatThrownBy(() -> Sidecar.start(SidecarConfig.of(new HostPort("127.0.0.1", sidecar.port()))
          .withApp(new AppConfig("orphan", new HostPort("127.0.0.1", app.port())))
          .withHealth(health)))
          .isInstanceOf(RuntimeException.class);
      // five intervals of the running sidecar's checks, at the same pace, pass first
      int seen = probes.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> probes.get() >= seen + 5);
      assertThat(stderr.text()).as("no health check of the failed start's app node ran on")
          .doesNotContainPattern("app node orphan-\\S+ unhealthy");
    }
  }

  @Test
  void anUnhealthyAppIsDeregisteredAfterTheThresholdAndRegisteredAgainOnRecovery() throws Exception {
    assertThat(registered()).isTrue();
    HttpResponse<String> healthy = get("/health");
    assertThat(healthy.statusCode()).isEqualTo(200);
    assertThat(healthy.body()).isEmpty();

    healthStatus.set(503);
    HttpResponse<String> sick = get("/health");
    assertThat(sick.statusCode()).isEqualTo(503);
    assertThat(sick.body()).isEqualTo("Non 200 response: 503\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> !registered());

    healthStatus.set(200);
    await().atMost(Duration.ofSeconds(10)).until(this::registered);
    assertThat(get("/health").statusCode()).isEqualTo(200);
  }

  @Test
  void aHangingHealthUrlIsAFailureWithinTheTimeout() throws Exception {
    healthStatus.set(0);
    long before = System.nanoTime();
    HttpResponse<String> hanging = get("/health");
    assertThat(hanging.statusCode()).isEqualTo(500);
    assertThat(hanging.body()).startsWith("no answer from http://127.0.0.1:").contains("within 300ms");
    assertThat(Duration.ofNanos(System.nanoTime() - before)).as("answered from a probe bounded by the timeout")
        .isLessThan(Duration.ofSeconds(5));
    await().atMost(Duration.ofSeconds(10)).until(() -> !registered());
  }

  @Test
  void anAppThatIsDownIs500WithTheConnectionErrorAndTheSidecarsOwnProbesStayUp() throws Exception {
    app.disposeNow();
    HttpResponse<String> down = get("/health");
    assertThat(down.statusCode()).isEqualTo(500);
    assertThat(down.body()).containsIgnoringCase("refused");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> !registered());
  }
}
