package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.server.testing.RunningSidecar;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/** {@code /registry} over real HTTP and WebSocket connections (contract §3). */
class RegistryIT {

  static final String EXAMPLE = """
      {
          "Name": "foo.bar",
          "Nodes": [{"Port": 9091, "Address": "127.0.0.1", "Id": "foo.bar-017da09a-734f-11e5-8136-68a86d0d36b6"}]
      }""";
  static final String EXAMPLE_ANSWER = "[{\"name\":\"foo.bar\",\"version\":\"\",\"metadata\":null,\"endpoints\":null,"
      + "\"nodes\":[{\"id\":\"foo.bar-017da09a-734f-11e5-8136-68a86d0d36b6\",\"address\":\"127.0.0.1\",\"port\":9091,\"metadata\":null}]}]";

  @RegisterExtension
  static final RunningSidecar sidecar = RunningSidecar.local();
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static String base;

  @BeforeAll
  static void start() {
    base = sidecar.url("");
  }

  @AfterEach
  void empty() throws Exception {
    for (var s : sidecar.registry().list().block(Duration.ofSeconds(5))) {
      sidecar.registry().deregister(s).block(Duration.ofSeconds(5));
    }
  }

  static HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aServiceNameWithASlashAsGoMicroAllowsIsRegisteredAndFound() throws Exception {
    String body = "{\"name\":\"go.micro/srv.slash\",\"nodes\":[{\"id\":\"slash/1\",\"address\":\"127.0.0.1\",\"port\":9091}]}";
    assertThat(send("POST", "/registry", body).statusCode()).isEqualTo(200);
    HttpResponse<String> found = send("GET", "/registry?service=go.micro/srv.slash", null);
    assertThat(found.statusCode()).isEqualTo(200);
    assertThat(found.body()).contains("\"name\":\"go.micro/srv.slash\"").contains("\"id\":\"slash/1\"");
    assertThat(send("DELETE", "/registry", body).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/registry?service=go.micro/srv.slash", null).statusCode()).isEqualTo(404);
  }

  @Test
  void anEmptyRegistryListsAsAnEmptyArray() throws Exception {
    HttpResponse<String> r = send("GET", "/registry", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(r.body()).isEqualTo("[]");
  }

  @Test
  void theContractsRegisterLookupDeregisterExamplesWorkWithJsonContentType() throws Exception {
    HttpResponse<String> reg = send("POST", "/registry", EXAMPLE, "Content-Type", "application/json");
    assertThat(reg.statusCode()).isEqualTo(200);
    assertThat(reg.body()).isEmpty();

    HttpResponse<String> found = send("GET", "/registry?service=foo.bar", null);
    assertThat(found.statusCode()).isEqualTo(200);
    assertThat(found.body()).isEqualTo(EXAMPLE_ANSWER);
    assertThat(send("GET", "/registry", null).body()).isEqualTo(EXAMPLE_ANSWER);

    HttpResponse<String> dereg = send("DELETE", "/registry", EXAMPLE, "Content-Type", "application/json");
    assertThat(dereg.statusCode()).isEqualTo(200);
    assertThat(dereg.body()).isEmpty();

    HttpResponse<String> gone = send("GET", "/registry?service=foo.bar", null);
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(gone.body()).isEqualTo("Service not found\n");
    assertThat(gone.headers().firstValue("content-type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("text/plain"));
  }

  @Test
  void curlsDefaultFormContentTypeDoesNotBreakAJsonBody() throws Exception {
    String form = "application/x-www-form-urlencoded";
    assertThat(send("POST", "/registry", EXAMPLE, "Content-Type", form).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/registry?service=foo.bar", null).body()).isEqualTo(EXAMPLE_ANSWER);
    assertThat(send("DELETE", "/registry", EXAMPLE, "Content-Type", form).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/registry?service=foo.bar", null).statusCode()).isEqualTo(404);
  }

  @Test
  void lowercaseKeysAndSeveralVersionsGiveOneServicePerVersion() throws Exception {
    send("POST", "/registry", "{\"name\":\"svc\",\"version\":\"2\",\"nodes\":[{\"id\":\"svc-2\",\"address\":\"h\",\"port\":2}]}");
    send("POST", "/registry", "{\"NAME\":\"svc\",\"VERSION\":\"1\",\"NODES\":[{\"ID\":\"svc-1\",\"ADDRESS\":\"h\",\"PORT\":1}]}");
    String body = send("GET", "/registry?service=svc", null).body();
    assertThat(body).startsWith("[{\"name\":\"svc\",\"version\":\"1\"").contains("},{\"name\":\"svc\",\"version\":\"2\"");
  }

  @Test
  void aTtlIsHonouredEndToEnd() throws Exception {
    assertThat(send("POST", "/registry?ttl=300ms", EXAMPLE).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/registry?service=foo.bar", null).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
        .until(() -> send("GET", "/registry?service=foo.bar", null).statusCode() == 404);
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource(delimiter = '|', value = {
      "POST   | /registry          | 400 | not json                                     | body: not a JSON object",
      "POST   | /registry          | 400 | '{\"Name\":\"foo\",'                         | body: invalid JSON",
      "POST   | /registry          | 400 | '{\"Nodes\":[{\"Id\":\"a\"}]}'               | name: missing",
      "POST   | /registry          | 400 | '{\"Name\":\"foo\"}'                         | nodes: missing",
      "POST   | /registry          | 400 | '{\"Name\":\"foo\",\"Nodes\":[{\"Port\":1}]}' | nodes[0].id: missing",
      "POST   | /registry          | 400 | '{\"Name\":\"foo\",\"Nodes\":[{\"Id\":\"a\",\"Port\":\"x\"}]}' | nodes[0].port:",
      "POST   | /registry          | 400 | ''                                           | body: empty",
      "DELETE | /registry          | 400 | '{\"Name\":\"foo\"}'                         | nodes: missing",
      "DELETE | /registry          | 400 | '[]'                                         | body: not a JSON object",
      "POST   | /registry?ttl=abc  | 400 | '{\"Name\":\"foo\",\"Nodes\":[{\"Id\":\"a\"}]}' | ttl: 'abc' is not a duration",
      "POST   | /registry?ttl=-5s  | 400 | '{\"Name\":\"foo\",\"Nodes\":[{\"Id\":\"a\"}]}' | ttl: '-5s' (expected: a positive duration",
      "POST   | /registry?ttl=0    | 400 | '{\"Name\":\"foo\",\"Nodes\":[{\"Id\":\"a\"}]}' | ttl: '0' (expected: a positive duration",
      "PUT    | /registry          | 405 | '{}'                                         | Method not allowed",
      "PATCH  | /registry          | 405 | '{}'                                         | Method not allowed",
      "GET    | /                  | 404 |                                              | 404 page not found",
  })
  void badRequestsGetTheRightStatusAndAOneLineReason(String method, String path, int status, String body, String reason)
      throws Exception {
    HttpResponse<String> r = send(method, path, body);
    assertThat(r.statusCode()).isEqualTo(status);
    assertThat(r.body()).startsWith(reason).endsWith("\n");
    assertThat(r.body().strip()).doesNotContain("\n");
    if (status == 405) {
      assertThat(r.headers().firstValue("allow")).hasValue("GET, POST, DELETE");
    }
    // the connection and the sidecar stay healthy
    assertThat(send("GET", "/registry", null).statusCode()).isEqualTo(200);
    assertThat(sidecar.registry().list().block(Duration.ofSeconds(5))).isEmpty();
  }

  @Test
  void withoutAnAppHealthIs404AndTheSidecarsOwnProbesAnswer() throws Exception {
    assertThat(send("GET", "/health", null).statusCode()).isEqualTo(404);
    HttpResponse<String> live = send("GET", "/healthz", null);
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.body()).isEqualTo("ok\n");
    assertThat(send("GET", "/readyz", null).body()).isEqualTo("ready\n");
  }

  @Test
  void aBodyLargerThanTheLimitIs413AndNothingIsRegistered() throws Exception {
    String huge = "{\"Name\":\"foo\",\"Nodes\":[{\"Id\":\"a\"}],\"pad\":\"" + "x".repeat(SidecarConfig.DEFAULT_MAX_BODY_BYTES) + "\"}";
    HttpResponse<String> r = send("POST", "/registry", huge);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).startsWith("body: larger than");
    assertThat(send("GET", "/registry", null).body()).isEqualTo("[]");
  }

  @Test
  void aChunkedBodyLargerThanTheLimitIs413Too() {
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) ' ');
    int status = reactor.netty.http.client.HttpClient.create() // fully qualified: name clash
        .post()
        .uri(base + "/registry")
        .send(Flux.range(0, 100).map(i -> Unpooled.wrappedBuffer(chunk)))
        .responseSingle((res, body) -> body.then(Mono.just(res.status().code())))
        .block(Duration.ofSeconds(10));
    assertThat(status).isEqualTo(413);
  }

  @Test
  void theWatchSendsCreateUpdateAndDeleteFrames() throws Exception {
    BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    Disposable watch = watch("/registry", frames);
    try {
      awaitWatching("probe", frames);
      send("POST", "/registry", EXAMPLE);
      assertThat(frames.poll(5, TimeUnit.SECONDS))
          .startsWith("{\"Action\":\"create\",\"Service\":{\"name\":\"foo.bar\",\"version\":\"\",\"metadata\":null");
      send("POST", "/registry", EXAMPLE.replace("9091", "9092"));
      assertThat(frames.poll(5, TimeUnit.SECONDS)).startsWith("{\"Action\":\"update\"").contains("\"port\":9092");
      send("DELETE", "/registry", EXAMPLE);
      assertThat(frames.poll(5, TimeUnit.SECONDS)).startsWith("{\"Action\":\"delete\"")
          .contains("\"id\":\"foo.bar-017da09a-734f-11e5-8136-68a86d0d36b6\"");
    } finally {
      watch.dispose();
    }
  }

  @Test
  void aWatchNarrowedToOneServiceSeesOnlyThatService() throws Exception {
    BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    Disposable watch = watch("/registry?service=foo.bar", frames);
    try {
      awaitWatching("foo.bar", frames);
      send("POST", "/registry", "{\"name\":\"other\",\"nodes\":[{\"id\":\"other-1\"}]}");
      send("POST", "/registry", EXAMPLE);
      assertThat(frames.poll(5, TimeUnit.SECONDS)).contains("\"name\":\"foo.bar\"");
      assertThat(frames).isEmpty();
    } finally {
      watch.dispose();
    }
  }

  /**
   * The server subscribes to the registry after the handshake, so a change made right after connecting
   * could precede it. Register probe nodes of {@code name} until the watch shows one, remove them, and
   * consume frames up to the last probe's delete: from then on the watch sees every change.
   */
  private static void awaitWatching(String name, BlockingQueue<String> frames) throws Exception {
    int probes = 0;
    String seen = null;
    while (seen == null && probes < 100) {
      probes++;
      send("POST", "/registry", "{\"name\":\"" + name + "\",\"nodes\":[{\"id\":\"probe-" + probes + "\"}]}");
      seen = frames.poll(100, TimeUnit.MILLISECONDS);
    }
    assertThat(seen).as("the watch delivers frames").isNotNull();
    for (int i = 1; i <= probes; i++) {
      send("DELETE", "/registry", "{\"name\":\"" + name + "\",\"nodes\":[{\"id\":\"probe-" + i + "\"}]}");
    }
    String last = "\"id\":\"probe-" + probes + "\"";
    for (String f = frames.poll(5, TimeUnit.SECONDS); f != null; f = frames.poll(5, TimeUnit.SECONDS)) {
      if (f.startsWith("{\"Action\":\"delete\"") && f.contains(last)) {
        return;
      }
    }
    throw new AssertionError("the probe's delete frame never came");
  }

  private static Disposable watch(String path, BlockingQueue<String> frames) throws InterruptedException {
    BlockingQueue<Boolean> connected = new LinkedBlockingQueue<>();
    Disposable d = reactor.netty.http.client.HttpClient.create() // fully qualified: name clash
        .websocket()
        .uri("ws://127.0.0.1:" + sidecar.port() + path)
        .handle((WebsocketInbound in, WebsocketOutbound out) -> {
          connected.add(true);
          return in.receive().asString().doOnNext(frames::add).then();
        })
        .subscribe();
    assertThat(connected.poll(5, TimeUnit.SECONDS)).isTrue();
    return d;
  }

}
