package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.TestSidecars;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.adapter.JdkFlowAdapter;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** {@code --handler=proxy}: the catch-all route as a reverse proxy, HTTP and WebSocket (contract §5). */
class ProxyIT {

  static Sidecar sidecar;
  static DisposableServer app;
  static final Map<String, String> seen = new ConcurrentHashMap<>();
  static final long BIG = 50L * 1024 * 1024;
  static final int CHUNK = 64 * 1024;
  static final AtomicLong produced = new AtomicLong();
  static final BlockingQueue<Integer> appSawClose = new LinkedBlockingQueue<>();
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    app = HttpServer.create().host("127.0.0.1").port(0)
        .route(r -> r
            .ws("/foo/ws", (in, out) -> {
              in.receiveCloseStatus().subscribe(s -> appSawClose.add(s.code()));
              return out.sendString(in.receive().asString().concatMap(text -> text.startsWith("close ")
                  ? out.sendClose(Integer.parseInt(text.substring(6)), "bye").then(Mono.<String>empty())
                  : Mono.just("echo: " + text)));
            })
            .get("/foo/hang", (req, res) -> Mono.never())
            .get("/foo/big", (req, res) -> res.header("Content-Length", Long.toString(BIG))
                .send(Flux.range(0, (int) (BIG / CHUNK)).map(i -> {
                  produced.addAndGet(CHUNK);
                  byte[] b = new byte[CHUNK];
                  Arrays.fill(b, (byte) ('a' + i % 26));
                  return Unpooled.wrappedBuffer(b);
                }), b -> false))
            .route(req -> true, (req, res) -> req.receive().aggregate().asString().defaultIfEmpty("").flatMap(body -> {
              seen.clear();
              seen.put("method", req.method().name());
              seen.put("uri", req.uri());
              seen.put("body", body);
              req.requestHeaders().forEach(e -> seen.put("h:" + e.getKey().toLowerCase(), e.getValue()));
              req.requestHeaders().names().forEach(n -> seen.put("count:" + n.toLowerCase(),
                  Integer.toString(req.requestHeaders().getAll(n).size())));
              return res.status(201).header("X-App", "yes")
                  .sendString(Mono.just(req.method().name() + " " + req.uri() + " " + body.length())).then();
            })))
        .bindNow();
    sidecar = Sidecar.start(TestSidecars.local().withHandler(SidecarConfig.Handler.PROXY)
        .withClient(ClientConfig.DEFAULT.withRequestTimeout(Duration.ofSeconds(2))));
    Node node = new Node("app-1", "127.0.0.1", app.port(), null);
    for (String name : List.of("go.micro.srv.foo", "go.micro.srv.v1.foo")) {
      sidecar.registry().register(new Service(name, "", null, null, List.of(node)), Registry.NO_TTL).block();
    }
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    sidecar.registry().register(new Service("go.micro.srv.dead", "", null, null,
        List.of(new Node("dead-1", "127.0.0.1", closed, null))), Registry.NO_TTL).block();
  }

  @AfterAll
  static void stop() {
    sidecar.close();
    app.disposeNow();
  }

  static HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void keepsMethodPathQueryHeadersAndBodyAndPassesTheAnswerBack() throws Exception {
    for (String method : List.of("GET", "POST", "PUT", "PATCH", "DELETE")) {
      HttpResponse<String> r = send(method, "/foo/bar/baz?x=1&y=a%20b", method.equals("GET") ? null : "payload-" + method,
          "X-Custom", "kept", "Content-Type", "text/plain");
      assertThat(r.statusCode()).isEqualTo(201);
      assertThat(r.headers().firstValue("x-app")).hasValue("yes");
      assertThat(seen).containsEntry("method", method).containsEntry("uri", "/foo/bar/baz?x=1&y=a%20b")
          .containsEntry("h:x-custom", "kept")
          .containsEntry("h:x-forwarded-for", "127.0.0.1")
          .containsEntry("h:x-forwarded-proto", "http")
          .containsEntry("h:x-forwarded-host", "127.0.0.1:" + sidecar.port());
      if (!method.equals("GET")) {
        assertThat(seen).containsEntry("body", "payload-" + method).containsEntry("h:content-type", "text/plain");
      }
    }
  }

  @Test
  void theAppSeesTheCallersHostEachHeaderOnceAndTheBodysLength() throws Exception {
    HttpResponse<String> r = send("POST", "/foo/framed", "twelve bytes", "Content-Type", "text/plain", "Accept", "text/plain");
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(seen).containsEntry("h:host", "127.0.0.1:" + sidecar.port())
        .containsEntry("h:content-length", "12")
        .doesNotContainKey("h:transfer-encoding")
        .containsEntry("h:accept", "text/plain")
        .containsEntry("count:accept", "1")
        .containsEntry("count:user-agent", "1")
        .containsEntry("count:host", "1");
    assertThat(seen.get("h:user-agent")).startsWith("Java-http-client");
  }

  @Test
  void aLargeBodyStreamsThroughAndVersionedPathsMapToVersionedServices() throws Exception {
    String big = "x".repeat(3 * 1024 * 1024);
    HttpResponse<String> r = send("POST", "/v1/foo/upload", big);
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).isEqualTo("POST /v1/foo/upload " + big.length());
  }

  @Test
  void aFiftyMebibyteAnswerStreamsBackAndTheAppWaitsForASlowClient() throws Exception {
    produced.set(0);
    try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
      s.setSoTimeout(10_000);
      s.setReceiveBufferSize(64 * 1024);
      s.getOutputStream().write("GET /foo/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        head.append((char) in.read());
      }
      assertThat(head.toString()).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + BIG);
      byte[] buf = new byte[CHUNK];
      long read = 0;
      long ahead = 0;
      for (int n; (n = in.read(buf)) > 0; ) {
        read += n;
        ahead = Math.max(ahead, produced.get() - read);
        if (read % (4 * 1024 * 1024) < n) {
          // a slow client: the sidecar must pause the app rather than hold the answer for it
          LockSupport.parkNanos(20_000_000);
        }
      }
      assertThat(read).isEqualTo(BIG);
      // what the app got ahead of the client is what the sockets' buffers and one high-water mark hold,
      // nowhere near the answer's 50 MiB
      assertThat(ahead).isLessThan(16L * 1024 * 1024);
    }
  }

  @Test
  void anAnswerWhoseBodyEndsWhenTheAppClosesArrivesWhole() throws Exception {
    // an HTTP/1.0-style app: no Content-Length, no chunks, the body ends with the connection
    try (ServerSocket raw = new ServerSocket(0)) {
      Thread app = new Thread(() -> {
        try (Socket c = raw.accept()) {
          InputStream in = c.getInputStream();
          StringBuilder head = new StringBuilder();
          while (!head.toString().endsWith("\r\n\r\n")) {
            head.append((char) in.read());
          }
          c.getOutputStream().write(("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n"
              + "the body ends when the app closes").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
          // the test fails on what the client got
        }
      });
      app.start();
      sidecar.registry().register(new Service("go.micro.srv.raw", "", null, null,
          List.of(new Node("raw-1", "127.0.0.1", raw.getLocalPort(), null))), Registry.NO_TTL).block();
      HttpResponse<String> r = send("GET", "/raw/anything", null);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("the body ends when the app closes");
      app.join(10_000);
    }
  }

  @Test
  void aSlowUploadLongerThanTheDeadlineReachesAHealthyApp() throws Exception {
    // 48 MiB at about 8 MiB/s: three times the 2 s deadline, which starts once the request is all sent
    int size = 48 * 1024 * 1024;
    byte[] chunk = new byte[256 * 1024];
    Arrays.fill(chunk, (byte) 'u');
    HttpRequest upload = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/foo/slow-upload"))
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.fromPublisher(JdkFlowAdapter.publisherToFlowPublisher(
            Flux.range(0, size / chunk.length)
                .delayElements(Duration.ofMillis(30))
                .map(i -> ByteBuffer.wrap(chunk))), size))
        .build();
    HttpResponse<String> r = http.send(upload, HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.body()).isEqualTo("POST /foo/slow-upload " + size);
  }

  @Test
  void hopByHopHeadersStayBehind() throws Exception {
    // java.net.http refuses to send Connection, so this one goes through Reactor Netty's client
    int status = reactor.netty.http.client.HttpClient.create() // fully qualified: name clash
        .headers(h -> h.add("X-Drop-Me", "1").add("X-Keep", "1").add("Connection", "keep-alive, X-Drop-Me"))
        .get().uri("http://127.0.0.1:" + sidecar.port() + "/foo/x")
        .responseSingle((res, body) -> body.then(Mono.just(res.status().code())))
        .block(Duration.ofSeconds(10));
    assertThat(status).isEqualTo(201);
    assertThat(seen).containsKey("h:x-keep").doesNotContainKey("h:x-drop-me");
  }

  @Test
  void anAppThatSendsNoHeadersWithinTheDeadlineIs504() throws Exception {
    HttpResponse<String> r = send("GET", "/foo/hang", null);
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("app did not answer in time\n");
    assertThat(send("GET", "/foo/after", null).statusCode()).isEqualTo(201);
  }

  @Test
  void unknownServiceIs404AndADeadNodeIs503() throws Exception {
    HttpResponse<String> unknown = send("GET", "/nope/x", null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("service not found\n");
    HttpResponse<String> dead = send("GET", "/dead/x", null);
    assertThat(dead.statusCode()).isEqualTo(503);
    assertThat(dead.body()).startsWith("app unreachable: ");
    assertThat(send("GET", "/foo/still-fine", null).statusCode()).isEqualTo(201);
  }

  @Test
  void webSocketsAreProxiedWithCloseCodesPassedThroughBothWays() throws Exception {
    BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    BlockingQueue<Integer> closes = new LinkedBlockingQueue<>();
    reactor.netty.http.client.HttpClient.create().websocket() // fully qualified: name clash
        .uri("ws://127.0.0.1:" + sidecar.port() + "/foo/ws")
        .handle((in, out) -> {
          in.receiveCloseStatus().subscribe(s -> closes.add(s.code()));
          return out.sendString(Flux.just("hello", "close 4000"))
              .then(in.receive().asString().doOnNext(frames::add).then());
        })
        .subscribe();
    assertThat(frames.poll(10, TimeUnit.SECONDS)).isEqualTo("echo: hello");
    assertThat(closes.poll(10, TimeUnit.SECONDS)).as("the app's close code reaches the client").isEqualTo(4000);

    appSawClose.clear();
    BlockingQueue<String> echoed = new LinkedBlockingQueue<>();
    reactor.netty.http.client.HttpClient.create().websocket() // fully qualified: name clash
        .uri("ws://127.0.0.1:" + sidecar.port() + "/foo/ws")
        .handle((in, out) -> {
          // read without cancelling: a cancelled inbound makes the client send a close of its own
          Sinks.Empty<Void> echo = Sinks.empty();
          in.receive().asString().subscribe(text -> {
            echoed.add(text);
            echo.tryEmitEmpty();
          });
          return out.sendString(Mono.just("ping")).then(echo.asMono()).then(out.sendClose(4001, "client done"));
        })
        .subscribe();
    assertThat(echoed.poll(10, TimeUnit.SECONDS)).isEqualTo("echo: ping");
    assertThat(appSawClose.poll(10, TimeUnit.SECONDS)).as("the client's close code reaches the app").isEqualTo(4001);
    assertThat(WebSocketCloseStatus.isValidStatusCode(4001)).isTrue();
  }
}
