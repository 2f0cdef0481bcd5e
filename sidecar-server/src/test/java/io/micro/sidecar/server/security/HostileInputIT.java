package io.micro.sidecar.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.config.LimitsConfig;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.RawHttp;
import io.micro.sidecar.server.testing.RunningSidecar;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and broken input on every route, sent as raw bytes over a socket: each gets a 4xx with a
 * one-line reason (or, where HTTP itself is broken beyond answering, a closed connection) — never a
 * 5xx, a stack trace, a leaked buffer (paranoid leak detection fails the class) or a stuck
 * connection — and the sidecar answers normally afterwards.
 */
class HostileInputIT {

  static JsonRpcApp app;

  @RegisterExtension
  static final RunningSidecar sidecar = RunningSidecar.with(c -> c
      .withLimits(LimitsConfig.DEFAULT.withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(30))));

  @BeforeAll
  static void start() {
    app = JsonRpcApp.start("example-1");
    sidecar.registry().register(new Service("go.micro.srv.example", "", null, null, List.of(app.node())), Registry.NO_TTL)
        .block(Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** A request, the status it must get (0: the server may only close the connection), and what the body starts with. */
  record Case(String name, byte[] request, int status, String body) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case post(String name, String path, String contentType, String body, int status, String reason) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return raw(name, ("POST " + path + " HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n"
        + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
        + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), b, status, reason);
  }

  static Case bytes(String name, String path, byte[] body, int status, String reason) {
    return raw(name, ("POST " + path + " HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), body, status, reason);
  }

  static Case request(String name, String head, int status, String reason) {
    return raw(name, head.getBytes(StandardCharsets.ISO_8859_1), new byte[0], status, reason);
  }

  static Case raw(String name, byte[] head, byte[] body, int status, String reason) {
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return new Case(name, all, status, reason);
  }

  static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n";
  }

  static Stream<Case> cases() {
    String deep = "[".repeat(5000) + "]".repeat(5000);
    byte[] badUtf8 = {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', ',', '"', 'n', 'o', 'd', 'e',
        's', '"', ':', '[', '{', '"', 'i', 'd', '"', ':', '"', 'a', '"', '}', ']', '}'};
    String svc = "\"service\":\"go.micro.srv.example\"";
    List<Case> c = new ArrayList<>(List.of(
        // /registry: malformed, truncated, wrong types, deep, invalid UTF-8, huge numbers, bad names
        post("registry: malformed JSON", "/registry", "application/json", "{", 400, "body: invalid JSON"),
        post("registry: truncated JSON", "/registry", "application/json", "{\"name\":\"a\",\"nodes\":[{\"id\":", 400, "nodes[0]: Unexpected end-of-input"),
        post("registry: number as name", "/registry", null, "{\"name\":5,\"nodes\":[{\"id\":\"a\"}]}", 400, "name:"),
        post("registry: string as port", "/registry", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\",\"port\":\"80\"}]}", 400, "nodes[0].port:"),
        post("registry: float as port", "/registry", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\",\"port\":1.5}]}", 400, "nodes[0].port:"),
        post("registry: huge port", "/registry", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\",\"port\":99999999999}]}", 400, "nodes[0].port:"),
        post("registry: 1e400 port", "/registry", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\",\"port\":1e400}]}", 400, "nodes[0].port:"),
        post("registry: nodes is an object", "/registry", null, "{\"name\":\"a\",\"nodes\":{\"id\":\"a\"}}", 400, "nodes:"),
        post("registry: node is a string", "/registry", null, "{\"name\":\"a\",\"nodes\":[\"a\"]}", 400, "nodes[0]:"),
        post("registry: metadata value an object", "/registry", null, "{\"name\":\"a\",\"metadata\":{\"k\":{}},\"nodes\":[{\"id\":\"a\"}]}", 400, "metadata.k:"),
        post("registry: deep nesting", "/registry", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\"}],\"x\":" + deep + "}", 400, "body: invalid JSON"),
        bytes("registry: invalid UTF-8", "/registry", badUtf8, 400, "name: Invalid UTF-8"),
        post("registry: newline in name", "/registry", null, "{\"name\":\"a\\nb\",\"nodes\":[{\"id\":\"a\"}]}", 400, "name: \"a\\u000ab\""),
        post("registry: slash in name", "/registry", null, "{\"name\":\"../etc\",\"nodes\":[{\"id\":\"a\"}]}", 400, "name:"),
        post("registry: 300-char name", "/registry", null, "{\"name\":\"" + "a".repeat(300) + "\",\"nodes\":[{\"id\":\"a\"}]}", 400, "name:"),
        post("registry: NUL in node id", "/registry", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\\u0000b\"}]}", 400, "nodes[0].id:"),
        post("registry: null body", "/registry", null, "null", 400, "body: not a JSON object"),
        post("registry: array body", "/registry", null, "[{\"name\":\"a\"}]", 400, "body: not a JSON object"),
        post("registry: empty body", "/registry", null, "", 400, "body: empty"),
        post("registry: ttl overflow", "/registry?ttl=99999999999h", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\"}]}", 400, "ttl:"),
        post("registry: ttl garbage", "/registry?ttl=%FF%FE", null, "{\"name\":\"a\",\"nodes\":[{\"id\":\"a\"}]}", 400, "ttl:"),
        post("registry: body over the limit", "/registry", null, "x".repeat(4 * 1024 * 1024 + 1), 413, "body: larger than"),
        request("registry: unknown method", "BREW /registry HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n", 405, "Method not allowed"),
        request("registry: header injection in the query", get("/registry?service=foo%0d%0aX-Injected:%201"), 404, "Service not found"),
        // /rpc
        post("rpc: malformed JSON", "/rpc", "application/json", "{\"service\":", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid request body"),
        post("rpc: number as service", "/rpc", "application/json", "{\"service\":1,\"method\":\"A.B\"}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400"),
        post("rpc: request string not JSON", "/rpc", "application/json", "{" + svc + ",\"method\":\"A.B\",\"request\":\"{oops\"}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid request:"),
        post("rpc: deep request", "/rpc", "application/json", "{" + svc + ",\"method\":\"A.B\",\"request\":" + deep + "}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400"),
        bytes("rpc: invalid UTF-8", "/rpc", new byte[] {'{', '"', 's', (byte) 0xFF, '"', ':', '1', '}'}, 400, "{\"id\":\"go.micro.rpc\",\"code\":400"),
        post("rpc: bad percent-encoding in a form", "/rpc", "application/x-www-form-urlencoded", "service=%zz&method=A.B", 400, "{\"id\":\"go.micro.rpc\",\"code\":400"),
        post("rpc: NUL after a number in the request (found by fuzzing)", "/rpc", "application/x-www-form-urlencoded",
            "service=a&method=B.C&request=1.%00", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid request: NUL byte"),
        bytes("rpc: NUL in a JSON body", "/rpc", "{\"service\":\"a\",\"method\":\"B.C\",\"request\":1.\u0000}".getBytes(StandardCharsets.UTF_8),
            400, "{\"id\":\"go.micro.rpc\",\"code\":400"),
        post("rpc: form without method", "/rpc", "application/x-www-form-urlencoded", "service=a", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid method\""),
        post("rpc: address without port", "/rpc", "application/json", "{" + svc + ",\"method\":\"A.B\",\"address\":\"localhost\"}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid address"),
        post("rpc: address with port 70000", "/rpc", "application/json", "{" + svc + ",\"method\":\"A.B\",\"address\":\"127.0.0.1:70000\"}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400"),
        post("rpc: path tricks in the service", "/rpc", "application/json", "{\"service\":\"../../etc/passwd\",\"method\":\"A.B\"}", 404, "{\"id\":\"go.micro.client\",\"code\":404"),
        post("rpc: body over the limit", "/rpc", "application/json", "{\"x\":\"" + "x".repeat(4 * 1024 * 1024) + "\"}", 413, "{\"id\":\"go.micro.rpc\",\"code\":413"),
        request("rpc: GET", get("/rpc"), 405, "{\"id\":\"go.micro.rpc\",\"code\":405"),
        // the catch-all route
        post("catch-all: dot-dot climbs no higher than the root", "/example/../../../call", "application/json", "{}", 404, "{\"id\":\"go.micro.client\",\"code\":404"),
        post("catch-all: encoded dot-dot", "/foo/%2e%2e/%2e%2e/etc/passwd", "application/json", "{}", 404, "{\"id\":\"go.micro.client\",\"code\":404"),
        post("catch-all: encoded slash", "/example%2Fcall/x", "application/json", "{}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid path"),
        post("catch-all: encoded backslash", "/example/%5C..%5Ccall", "application/json", "{}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid path"),
        post("catch-all: encoded NUL", "/example/%00call", "application/json", "{}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid path"),
        post("catch-all: bad percent-encoding", "/example/%zzcall", "application/json", "{}", 400, "invalid URL:"),
        post("catch-all: characters outside names", "/example/ca$ll", "application/json", "{}", 400, "{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid path"),
        post("catch-all: invalid JSON body", "/example/call", "application/json", "{\"name\":", 400, "{\"id\":\"go.micro.rpc\",\"code\":400"),
        post("catch-all: not JSON content type", "/example/call", "text/html", "<x>", 415, "{\"id\":\"go.micro.rpc\",\"code\":415"),
        request("catch-all: GET", get("/example/call"), 405, "{\"id\":\"go.micro.rpc\",\"code\":405"),
        post("catch-all: 200 path segments", "/" + "a/".repeat(200) + "b", "application/json", "{}", 404, "{\"id\":\"go.micro.client\",\"code\":404"),
        // /broker
        post("broker: no topic", "/broker", "text/plain", "x", 400, "Topic not specified"),
        post("broker: empty topic", "/broker?topic=", "text/plain", "x", 400, "Topic not specified"),
        post("broker: newline in topic", "/broker?topic=a%0Ab", "text/plain", "x", 400, "topic: a\\u000ab"),
        post("broker: topic over 200 characters", "/broker?topic=" + "t".repeat(201), "text/plain", "x", 400,
            "topic: " + "t".repeat(80)),
        post("broker: hierarchical topic is a topic", "/broker?topic=devices/42/telemetry", "text/plain", "x", 200, ""),
        request("broker: GET without upgrade", get("/broker?topic=t"), 400, "broker: GET needs a WebSocket upgrade"),
        request("broker: bad WebSocket version", "GET /broker?topic=t HTTP/1.1\r\nHost: sidecar\r\nConnection: Upgrade\r\n"
            + "Upgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 0, ""),
        // WebSocket handshakes that carry a body: refused before the upgrade, where the body once leaked
        request("websocket: registry watch upgrade with a body", "GET /registry HTTP/1.1\r\nHost: sidecar\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Content-Length: 1\r\n\r\nx", 400, "WebSocket upgrade with a body"),
        request("websocket: broker upgrade with a chunked body", "GET /broker?topic=t HTTP/1.1\r\nHost: sidecar\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 400, "WebSocket upgrade with a body"),
        // HTTP itself
        request("http: no Host", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "Host: missing"),
        request("http: two Hosts", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n", 400,
            "Host: 2 headers"),
        request("http: request line over the limit", get("/registry?service=" + "a".repeat(9000)), 414, ""),
        request("http: headers over the limit", "GET /registry HTTP/1.1\r\nHost: sidecar\r\nX-Big: " + "b".repeat(20_000)
            + "\r\nConnection: close\r\n\r\n", 431, ""),
        request("http: negative Content-Length", "POST /registry HTTP/1.1\r\nHost: sidecar\r\nContent-Length: -5\r\nConnection: close\r\n\r\n", 400, ""),
        request("http: two different Content-Lengths", "POST /registry HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 2\r\n"
            + "Content-Length: 3\r\nConnection: close\r\n\r\n{}", 400, ""),
        request("http: Content-Length and chunked (smuggling)", "POST /registry HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 4\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", 400, ""),
        request("http: bad chunk size", "POST /registry HTTP/1.1\r\nHost: sidecar\r\nTransfer-Encoding: chunked\r\n"
            + "Connection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 0, ""),
        request("http: unknown version", "GET /registry HTTP/9.9\r\nHost: sidecar\r\nConnection: close\r\n\r\n", 0, ""),
        request("http: absolute-form target", "GET http://sidecar/healthz HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n",
            400, "invalid request target"),
        request("http: target without a slash", "POST x/healthz HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 0\r\n"
            + "Connection: close\r\n\r\n", 400, "invalid request target"),
        request("http: garbage", "\u0000\u0001\u0002 nonsense\r\n\r\n", 0, ""),
        request("http: header injection attempt", "GET /registry HTTP/1.1\r\nHost: sidecar\r\nX-A: a\rX-Injected: b\r\n"
            + "Connection: close\r\n\r\n", 0, "")));
    return c.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void hostileInputGetsAClearRefusalAndTheSidecarStaysHealthy(Case c) throws Exception {
    String answer = exchange(c.request());
    int status = status(answer);
    if (c.status() == 0) {
      assertThat(status).as("either closed or a 4xx: %s", firstLine(answer)).satisfiesAnyOf(
          s -> assertThat(s).isZero(), s -> assertThat(s).isBetween(400, 499));
    } else {
      assertThat(status).as(firstLine(answer)).isEqualTo(c.status());
      String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
      assertThat(body).startsWith(c.body());
      if (body.startsWith("{")) {
        assertThat(body.strip()).doesNotContain("\n");
      } else {
        assertThat(body.strip()).as("one line").doesNotContain("\n");
      }
      assertThat(body).doesNotContain("Exception", "\tat ");
    }
    assertThat(answer).doesNotContainIgnoringCase("\r\nX-Injected");
    assertThat(status(exchange(get("/healthz").getBytes(StandardCharsets.ISO_8859_1)))).as("still healthy").isEqualTo(200);
  }

  @Test
  void aSlowLorisClientIsDroppedAfterTheHeaderTimeout() throws Exception {
    try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("GET /registry HTTP/1.1\r\nHost: sidecar\r\nX-Slow: ".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      long start = System.nanoTime();
      // the sidecar gives up on the unfinished headers and closes: read sees the end of the stream
      assertThat(s.getInputStream().read()).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void aWebSocketOutlivesTheHeaderTimeout() throws Exception {
    BlockingQueue<String> got = new LinkedBlockingQueue<>();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(
        URI.create("ws://127.0.0.1:" + sidecar.port() + "/broker?topic=long"), new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onText(WebSocket w, CharSequence text, boolean last) {
            got.add(text.toString());
            w.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
            got.add("closed " + code);
            return null;
          }
        }).get(10, TimeUnit.SECONDS);
    // a frame every 250 ms for four times the header timeout, each coming back: the deadline is for HTTP
    // headers, not WebSocket traffic
    Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
        .failFast("a frame did not come back", () -> {
          ws.sendText("frame", true).get(5, TimeUnit.SECONDS);
          assertThat(got.poll(5, TimeUnit.SECONDS)).as("the frame comes back").contains("\"Body\":");
        })
        .until(() -> true);
    ws.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
  }

  @Test
  void aValidRequestAfterTheSuiteStillWorksEndToEnd() throws Exception {
    String body = "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{}}";
    String answer = exchange(("POST /rpc HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
    assertThat(status(answer)).isEqualTo(200);
    assertThat(answer).contains("\"msg\":\"example-1: Hello ");
  }

  /** Sends the bytes and reads until the server closes (every case asks for Connection: close) or 10 s pass. */
  private static String exchange(byte[] request) throws IOException {
    return RawHttp.exchange(sidecar.port(), request);
  }

  private static int status(String answer) {
    return RawHttp.status(answer);
  }

  private static String firstLine(String answer) {
    int nl = answer.indexOf('\r');
    return nl < 0 ? answer : answer.substring(0, nl);
  }

}
