package io.micro.sidecar.server.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.config.SecurityConfig;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.CapturedStderr;
import io.micro.sidecar.server.testing.TestSidecars;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The access log goes through slf4j-simple, which writes to whatever {@code System.err} is at the time. */
class AccessLogIT {

  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private CapturedStderr stderr;

  @BeforeEach
  void capture() {
    stderr = CapturedStderr.install();
  }

  @AfterEach
  void restore() {
    stderr.close();
  }

  private String log() {
    return stderr.text();
  }

  private static int get(Sidecar s, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void oneLinePerRequestWithMethodPathStatusBytesAndDuration() throws Exception {
    try (Sidecar s = Sidecar.start(TestSidecars.local())) {
      assertThat(get(s, "/registry?service=nope", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
          .isEqualTo(404);
      await().atMost(Duration.ofSeconds(5)).until(() -> log().contains("GET /registry?service=nope 404"));
    }
    String line = log().lines().filter(l -> l.contains("GET /registry?service=nope")).findFirst().orElseThrow();
    assertThat(line).matches(".*access - 127\\.0\\.0\\.1 GET /registry\\?service=nope 404 \\d+ \\d+\\.\\d{3}ms"
        + " trace=4bf92f3577b34da6a3ce929d0e0e4736");
  }

  @Test
  void theGuardsRefusalsAreLoggedAndCountedLikeAnyAnswer() throws Exception {
    SecurityConfig token =
        SecurityConfig.DEFAULT.withApiToken("s3cret", false);
    try (Sidecar s = Sidecar.start(TestSidecars.local().withSecurity(token)
        .withObservability(ObservabilityConfig.DEFAULT.withStats(true)))) {
      assertThat(get(s, "/registry?service=refused")).isEqualTo(401);
      assertThat(get(s, "/rpc?refused=1")).isEqualTo(401);
      await().atMost(Duration.ofSeconds(5)).until(() -> log().contains("GET /rpc?refused=1 401"));
      assertThat(log()).contains("GET /registry?service=refused 401");
      HttpResponse<String> stats = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/stats"))
          .header("Authorization", "Bearer s3cret").header("Accept", "application/json").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(stats.statusCode()).isEqualTo(200);
      // the two refusals are in the window's 40x count, as any answer is
      long refused = 0;
      for (JsonNode c : new ObjectMapper()
          .readTree(stats.body()).path("counters")) {
        refused += c.path("status_codes").path("40x").asLong();
      }
      assertThat(refused).isEqualTo(2);
    }
  }

  @Test
  void turnedOffNothingIsLogged() throws Exception {
    try (Sidecar s = Sidecar.start(TestSidecars.local().withObservability(ObservabilityConfig.DEFAULT.withAccessLog(false)))) {
      assertThat(get(s, "/registry?service=quiet")).isEqualTo(404);
      assertThat(get(s, "/healthz")).isEqualTo(200);
    }
    assertThat(log()).doesNotContain("/registry?service=quiet");
  }
}
