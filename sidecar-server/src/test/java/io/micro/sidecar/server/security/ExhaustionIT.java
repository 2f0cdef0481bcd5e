package io.micro.sidecar.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.config.LimitsConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.RawHttp;
import io.micro.sidecar.server.testing.RunningSidecar;
import io.micro.sidecar.server.testing.TestSidecars;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What one client could once do to exhaust the sidecar, done over raw sockets. After each hostile
 * family the allocator's direct memory is back where it was, {@code /healthz} answers, and paranoid
 * leak detection (which fails the class) reports nothing.
 */
class ExhaustionIT {

  /**
   * What the allocator may keep cached (per-thread magazines of the sidecar's and the in-process app's
   * event loops); each family leaked 20 MiB or more before its fix, and paranoid leak detection
   * catches any single leaked buffer besides.
   */
  private static final long SLACK = 8L * 1024 * 1024;
  private static final long BUDGET = 20L * 1024 * 1024;

  static JsonRpcApp app;

  @RegisterExtension
  static final RunningSidecar sidecar = RunningSidecar.with(c -> c.withLimits(LimitsConfig.DEFAULT
      .withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(1)).withMaxBufferedBytes(BUDGET)));

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

  @Test
  void aWebSocketUpgradeCarryingABodyIsRefusedAndLeavesNothingBehind() throws Exception {
    long before = directMemory();
    String body = "x".repeat(16 * 1024);
    for (String path : new String[] {"/broker?topic=t", "/registry"}) {
      for (int i = 0; i < 500; i++) {
        String answer = exchange("GET " + path + " HTTP/1.1\r\nHost: sidecar\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: " + body.length()
            + "\r\n\r\n" + body);
        assertThat(answer).startsWith("HTTP/1.1 400 ").contains("WebSocket upgrade with a body");
      }
    }
    assertRecovered(before);
  }

  @Test
  void rpcCallersThatLeaveRightAfterSendingLeaveNothingBehind() throws Exception {
    app.delay(Duration.ofMillis(20));
    try {
      // a first round brings the allocator to the level this traffic keeps it at (its per-thread caches and
      // the chunks they pin: on io_uring 36-40 MiB over four rounds, on epoll 16); what a second round
      // leaves above that is what it leaked
      rpcCallersLeaving(400);
      long before = directMemory();
      rpcCallersLeaving(400);
      assertRecovered(before);
    } finally {
      app.delay(Duration.ZERO);
    }
  }

  /** {@code n} callers of each rpc route, each closing its connection right after sending a 50 KB call. */
  private static void rpcCallersLeaving(int n) throws IOException {
    String body = "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\""
        + "n".repeat(50_000) + "\"}}";
    for (int i = 0; i < n; i++) {
      for (String path : new String[] {"/rpc", "/example/call"}) {
        try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
          s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
              + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
          s.getOutputStream().flush();
        }
      }
    }
  }

  @Test
  void aRegistryWatchKeepsWatchingWhateverTheClientSends() throws Exception {
    try (Socket s = upgrade("/registry?service=watched")) {
      // a browser's keepalives and a client's stray text: the docs say client input is discarded
      sendFrame(s, 0x1, "keepalive".getBytes(StandardCharsets.UTF_8));
      sendFrame(s, 0x2, new byte[] {1, 2, 3});
      sendFrame(s, 0x9, "ping".getBytes(StandardCharsets.UTF_8));
      // the ping is answered with a pong before anything else is sent
      int[] pong = readFrameHeader(s);
      assertThat(pong[0]).as("opcode").isEqualTo(0xA);
      s.getInputStream().readNBytes(pong[1]);
      sidecar.registry().register(new Service("watched", "", null, null,
          List.of(new Node("w-1", "127.0.0.1", 1, null))), Registry.NO_TTL).block(Duration.ofSeconds(5));
      int[] event = readFrameHeader(s);
      assertThat(event[0]).as("a text frame, not a close").isEqualTo(0x1);
      assertThat(new String(s.getInputStream().readNBytes(event[1]), StandardCharsets.UTF_8))
          .contains("\"Action\":\"create\"").contains("watched");
    } finally {
      sidecar.registry().deregister(new Service("watched", "", null, null,
          List.of(new Node("w-1", "127.0.0.1", 1, null)))).block(Duration.ofSeconds(5));
    }
    assertThat(status(exchange(get("/healthz")))).isEqualTo(200);
  }

  @Test
  void aSilentConnectionIsClosedAtTheHeaderDeadlineNotTheIdleTimeout() throws Exception {
    long before = directMemory();
    List<Socket> silent = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        Socket s = new Socket("127.0.0.1", sidecar.port());
        // far below the 60 s idle timeout: a read that returns -1 in time means the sidecar closed it
        s.setSoTimeout(10_000);
        silent.add(s);
      }
      for (Socket s : silent) {
        assertThat(s.getInputStream().read()).as("closed by the sidecar").isEqualTo(-1);
      }
    } finally {
      for (Socket s : silent) {
        s.close();
      }
    }
    assertRecovered(before);
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedButNotOneWaitingForASlowApp() throws Exception {
    LimitsConfig d = LimitsConfig.DEFAULT;
    LimitsConfig oneSecondIdle = new LimitsConfig(d.maxHeaderBytes(), d.maxUrlLength(), d.headerTimeout(),
        d.bodyTimeout(), Duration.ofSeconds(1), d.maxConnections(), d.maxBufferedBytes());
    JsonRpcApp slow = JsonRpcApp.start("slow-1").delay(Duration.ofMillis(2500));
    try (Sidecar s = Sidecar.start(TestSidecars.local().withLimits(oneSecondIdle))) {
      s.registry().register(new Service("go.micro.srv.slow", "", null, null, List.of(slow.node())), Registry.NO_TTL)
          .block(Duration.ofSeconds(5));
      String body = "{\"service\":\"go.micro.srv.slow\",\"method\":\"Say.Hello\",\"request\":{\"name\":\"late\"}}";
      for (String request : new String[] {
          // served by the direct path, then by reactor-netty: either way the connection waits 2.5 s for the app
          "POST /rpc HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
              + "\r\n\r\n" + body,
          "GET /healthz HTTP/1.1\r\nHost: sidecar\r\n\r\n"}) {
        try (Socket c = new Socket("127.0.0.1", s.port())) {
          c.setSoTimeout(10_000);
          c.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
          c.getOutputStream().flush();
          // the whole answer (2.5 s for /rpc, past the 1 s idle timeout), then the server closes the idle connection
          String answer = RawHttp.drain(c.getInputStream());
          assertThat(answer).startsWith("HTTP/1.1 200 OK");
          if (request.startsWith("POST")) {
            assertThat(answer).contains("Hello late");
          }
        }
      }
    } finally {
      slow.close();
    }
  }

  @Test
  void aTrickledBodyIsCutAtTheBodyDeadline() throws Exception {
    long before = directMemory();
    for (String path : new String[] {"/registry", "/rpc", "/broker?topic=t", "/example/call"}) {
      try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
            + "Content-Length: 100\r\n\r\n{").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        // one more byte every half second would pass a body deadline of one second; none at all must not
        assertThat(RawHttp.drain(s.getInputStream())).as("no answer, just closed: %s", path).isEmpty();
      }
    }
    assertRecovered(before);
  }

  @Test
  void unfinishedBodiesPastTheBudgetAre503AndTheBudgetComesBack() throws Exception {
    long before = directMemory();
    int size = 4 * 1024 * 1024 - 1024;
    List<Socket> stalled = new ArrayList<>();
    try {
      // each holds a body the sidecar has reserved whole (Content-Length) but not yet received
      for (int i = 0; i < 5; i++) {
        Socket s = new Socket("127.0.0.1", sidecar.port());
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("POST /registry HTTP/1.1\r\nHost: sidecar\r\nContent-Length: " + size + "\r\n\r\n{")
            .getBytes(StandardCharsets.ISO_8859_1));
        stalled.add(s);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> metric("sidecar_buffered_bytes") >= 5.0 * size);
      double refusedBefore = metric("sidecar_buffered_refused_total");
      String answer = exchange("POST /registry HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\nContent-Length: " + size
          + "\r\n\r\n" + "x".repeat(size));
      assertThat(answer).startsWith("HTTP/1.1 503 ").containsIgnoringCase("Retry-After: 1").contains("--max_buffered_bytes");
      String rpc = "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\""
          + "n".repeat(size - 100) + "\"}}";
      assertThat(exchange("POST /rpc HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + rpc.length() + "\r\n\r\n" + rpc)).startsWith("HTTP/1.1 503 ").contains("\"code\":503");
      assertThat(metric("sidecar_buffered_refused_total")).as("counted").isGreaterThanOrEqualTo(refusedBefore + 2);
      // small work that buffers little goes on
      assertThat(status(exchange(get("/registry?service=go.micro.srv.example")))).isEqualTo(200);
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("sidecar_buffered_bytes") == 0);
    assertRecovered(before);
  }

  @Test
  void clientsThatNeverReadALargeAnswerHoldNoMoreThanTheBudget() throws Exception {
    List<Service> services = new ArrayList<>();
    for (int i = 0; i < 4000; i++) {
      services.add(new Service("bulk-" + i, "1.0." + i, Map.of("owner", "team-" + "o".repeat(100)), null,
          List.of(new Node("bulk-" + i + "-node", "10.0." + (i % 250) + ".1", 8080, Map.of("zone", "z".repeat(1000))))));
    }
    for (Service s : services) {
      sidecar.registry().register(s, Registry.NO_TTL).block(Duration.ofSeconds(5));
    }
    long before = directMemory();
    List<Socket> readers = new ArrayList<>();
    try {
      String list = get("/registry").replace("Connection: close\r\n", "");
      int held = 0;
      int refused = 0;
      for (int i = 0; i < 8; i++) {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", sidecar.port()));
        s.setSoTimeout(10_000);
        s.getOutputStream().write(list.getBytes(StandardCharsets.ISO_8859_1));
        readers.add(s);
        String head = new String(s.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
        if (head.endsWith("200")) {
          held++;
        } else if (head.endsWith("503")) {
          refused++;
        }
      }
      // each answer is several MiB: a 20 MiB budget holds a few of them, and the rest are refused
      assertThat(held).isBetween(1, 7);
      assertThat(refused).isEqualTo(8 - held);
      assertThat(metric("sidecar_buffered_bytes")).isLessThanOrEqualTo((double) BUDGET);
      assertThat(status(exchange(get("/healthz")))).isEqualTo(200);
    } finally {
      for (Socket s : readers) {
        s.close();
      }
      for (Service s : services) {
        sidecar.registry().deregister(s).block(Duration.ofSeconds(5));
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("sidecar_buffered_bytes") == 0);
    assertRecovered(before);
  }

  /** Direct memory back to its level before (within what the allocator caches), and the sidecar healthy. */
  private static void assertRecovered(long before) throws IOException {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(directMemory()).as("direct memory in use").isLessThanOrEqualTo(before + SLACK));
    assertThat(status(exchange(get("/healthz")))).as("still healthy").isEqualTo(200);
  }

  static long directMemory() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  private static double metric(String name) throws IOException {
    String text = exchange(get("/metrics"));
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? (\\S+)$").matcher(text);
    assertThat(m.find()).as("%s in /metrics", name).isTrue();
    return Double.parseDouble(m.group(1));
  }

  static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n";
  }

  private static Socket upgrade(String path) throws IOException {
    Socket s = new Socket("127.0.0.1", sidecar.port());
    s.setSoTimeout(10_000);
    s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: sidecar\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      assertThat(b).as("upgrade answer").isNotNegative();
      head.append((char) b);
    }
    assertThat(head.toString()).startsWith("HTTP/1.1 101 ");
    return s;
  }

  /** One masked client frame with a short payload. */
  static void sendFrame(Socket s, int opcode, byte[] payload) throws IOException {
    byte[] frame = new byte[6 + payload.length];
    frame[0] = (byte) (0x80 | opcode);
    frame[1] = (byte) (0x80 | payload.length);
    byte[] mask = {0x11, 0x22, 0x33, 0x44};
    System.arraycopy(mask, 0, frame, 2, 4);
    for (int i = 0; i < payload.length; i++) {
      frame[6 + i] = (byte) (payload[i] ^ mask[i & 3]);
    }
    s.getOutputStream().write(frame);
    s.getOutputStream().flush();
  }

  /** A server frame's opcode and payload length (short and 16-bit lengths only). */
  static int[] readFrameHeader(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    int b0 = in.read();
    int b1 = in.read();
    assertThat(b1).as("a frame, not the end of the stream").isNotNegative();
    int length = b1 & 0x7f;
    if (length == 126) {
      length = (in.read() << 8) | in.read();
    }
    return new int[] {b0 & 0x0f, length};
  }

  static String exchange(String request) throws IOException {
    return RawHttp.exchange(sidecar.port(), request.getBytes(StandardCharsets.ISO_8859_1));
  }

  static int status(String answer) {
    return RawHttp.status(answer);
  }
}
