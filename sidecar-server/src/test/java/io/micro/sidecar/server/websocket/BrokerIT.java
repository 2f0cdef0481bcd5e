package io.micro.sidecar.server.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.broker.BrokerStats;
import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.RunningSidecar;
import io.micro.sidecar.server.testing.TestSidecars;
import io.netty.channel.uring.IoUring;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** {@code /broker} over real HTTP and WebSocket connections (contract §7). */
class BrokerIT {

  static final String HELLO_FRAME = "{\"Header\":{\"Content-Type\":\"text/plain\"},\"Body\":\"aGVsbG8gd29ybGQ=\"}";
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration WAIT = Duration.ofSeconds(10);
  /** How far, in messages, the burst's publisher may run ahead of its slowest reader. */
  private static final int AHEAD = 3_000;

  @RegisterExtension
  static final RunningSidecar sidecar = RunningSidecar.local();
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static String ws(Sidecar s, String pathAndQuery) {
    return "ws://127.0.0.1:" + s.port() + pathAndQuery;
  }

  static HttpResponse<String> send(Sidecar s, String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(WAIT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Awaits with a short poll, for loops that wait many times for something that takes milliseconds. */
  static ConditionFactory soon() {
    return await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2));
  }

  static void awaitSubscribers(Sidecar s, String topic, int n) {
    await().atMost(WAIT).until(() -> s.broker().stats(topic).subscribers() == n);
  }

  static String take(BlockingQueue<String> frames) throws InterruptedException {
    String f = frames.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(f).as("a frame").isNotNull();
    return f;
  }

  static String body(String frame) throws Exception {
    return new String(Base64.getDecoder().decode(JSON.readTree(frame).get("Body").asText()), StandardCharsets.UTF_8);
  }

  /** The sidecar still serves: a publish reaches a fresh subscriber. */
  static void assertHealthy(Sidecar s) throws Exception {
    try (JdkWebSocket probe = JdkWebSocket.connect(ws(s, "/broker?topic=health"))) {
      awaitSubscribers(s, "health", 1);
      assertThat(send(s, "POST", "/broker?topic=health", "ok").statusCode()).isEqualTo(200);
      assertThat(body(take(probe.frames))).isEqualTo("ok");
    }
  }

  @Test
  void theGoClientFlowWithReactorNettyReadsBackItsOwnHelloWorld() throws Exception {
    try (NettyWebSocket c = new NettyWebSocket(ws(sidecar.get(), "/broker?topic=go-netty"))) {
      c.send("hello world");
      assertThat(take(c.frames)).isEqualTo(HELLO_FRAME);
      c.send("hello world");
      assertThat(take(c.frames)).isEqualTo(HELLO_FRAME);
    }
    await().atMost(WAIT).until(() -> sidecar.broker().stats("go-netty").equals(BrokerStats.EMPTY));
  }

  @Test
  void theGoClientFlowWithTheJdkClientReadsBackItsOwnHelloWorld() throws Exception {
    try (JdkWebSocket c = JdkWebSocket.connect(ws(sidecar.get(), "/broker?topic=go-jdk"))) {
      c.sendText("hello world");
      assertThat(take(c.frames)).isEqualTo(HELLO_FRAME);
    }
  }

  @Test
  void theFirstFrameRightAfterTheHandshakeComesBackToo() throws Exception {
    // the raw client writes its frame without waiting for anything: it must not overtake the subscription
    for (int i = 0; i < 20; i++) {
      try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker?topic=first-" + i, 0)) {
        c.sendText("hello world");
        RawWebSocket.Frame f = c.read();
        assertThat(f.opcode()).isEqualTo(RawWebSocket.TEXT);
        assertThat(f.text()).isEqualTo(HELLO_FRAME);
      }
    }
  }

  @Test
  void pongsAndOtherControlFramesLeaveTheSubscriptionAlive() throws Exception {
    try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker?topic=pongs", 0)) {
      // unsolicited pongs are allowed (RFC 6455 §5.5.3); browsers send them as keepalives
      c.send(0xA, true, "keepalive".getBytes(StandardCharsets.UTF_8));
      c.send(0xA, true, new byte[0]);
      c.sendText("hello world");
      RawWebSocket.Frame f = c.read();
      assertThat(f.opcode()).isEqualTo(RawWebSocket.TEXT);
      assertThat(f.text()).isEqualTo(HELLO_FRAME);
    }
  }

  @Test
  void framesRfc6455ForbidsCloseTheConnectionWithTheirCode() throws Exception {
    try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker?topic=rsv", 0)) {
      c.send(0x40 | RawWebSocket.TEXT, true, "compressed?".getBytes(StandardCharsets.UTF_8));
      assertThat(c.readUntilClose()).as("reserved bit without an extension").isEqualTo(1002);
    }
    try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker?topic=utf8", 0)) {
      c.send(RawWebSocket.TEXT, true, new byte[] {'a', (byte) 0xC3, (byte) 0x28});
      assertThat(c.readUntilClose()).as("text that is not UTF-8").isEqualTo(1007);
    }
    try (JdkWebSocket c = JdkWebSocket.connect(ws(sidecar.get(), "/broker?topic=utf8"))) {
      c.sendText("still fine");
      assertThat(take(c.frames)).contains("\"Body\":\"c3RpbGwgZmluZQ==\"");
    }
  }

  @Test
  void binaryFramesArePublishedWithTheUpgradeRequestsContentType() throws Exception {
    try (JdkWebSocket c = JdkWebSocket.connect(ws(sidecar.get(), "/broker?topic=typed"), "Content-Type", "application/octet-stream")) {
      c.sendBinary(new byte[] {0, (byte) 0xff, 42});
      assertThat(take(c.frames)).isEqualTo("{\"Header\":{\"Content-Type\":\"application/octet-stream\"},\"Body\":\"AP8q\"}");
    }
  }

  /**
   * A publish with a declared length is served on the direct path, a chunked one by reactor-netty: the
   * subscriber and the publisher cannot tell which.
   */
  @Test
  void aPublishAnswersAlikeWithALengthOrChunked() throws Exception {
    try (JdkWebSocket sub = JdkWebSocket.connect(ws(sidecar.get(), "/broker?topic=alike"))) {
      awaitSubscribers(sidecar.get(), "alike", 1);
      List<String> answers = new ArrayList<>();
      for (boolean chunked : new boolean[] {false, true}) {
        try (Socket socket = new Socket("127.0.0.1", sidecar.port())) {
          String head = "POST /broker?topic=alike HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Path: " + (chunked ? "chunked" : "length")
              + "\r\n" + (chunked ? "Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n" : "Content-Length: 2\r\n\r\nhi");
          socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
          InputStream in = socket.getInputStream();
          StringBuilder answer = new StringBuilder();
          while (!answer.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("answer so far: %s", answer).isNotNegative();
            answer.append((char) b);
          }
          answers.add(answer.toString().toLowerCase(Locale.ROOT));
        }
        JsonNode frame = JSON.readTree(take(sub.frames));
        assertThat(frame.get("Header").get("X-Path").asText()).isEqualTo(chunked ? "chunked" : "length");
        assertThat(frame.get("Body").asText()).isEqualTo(Base64.getEncoder().encodeToString("hi".getBytes()));
      }
      assertThat(answers.get(0)).startsWith("http/1.1 200 ok\r\n").contains("\r\ncontent-length: 0\r\n")
          .doesNotContain("\r\ncontent-type:");
      assertThat(answers.get(1)).isEqualTo(answers.get(0));
    }
  }

  @Test
  void postPublishesTheBodyWithEveryRequestHeader() throws Exception {
    try (JdkWebSocket sub = JdkWebSocket.connect(ws(sidecar.get(), "/broker?topic=foo"))) {
      awaitSubscribers(sidecar.get(), "foo", 1);
      HttpResponse<String> r = send(sidecar.get(), "POST", "/broker?topic=foo", "Hello World!",
          "Timestamp", "1499951537", "Content-Type", "application/x-www-form-urlencoded", "x-lower-case", "v");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEmpty();

      JsonNode frame = JSON.readTree(take(sub.frames));
      JsonNode header = frame.get("Header");
      assertThat(header.get("Timestamp").asText()).isEqualTo("1499951537");
      assertThat(header.get("Content-Type").asText()).isEqualTo("application/x-www-form-urlencoded");
      assertThat(header.get("X-Lower-Case").asText()).isEqualTo("v");
      assertThat(header.get("Content-Length").asText()).isEqualTo("12");
      assertThat(header.has("Host")).isFalse();
      assertThat(frame.get("Body").asText()).isEqualTo(Base64.getEncoder().encodeToString("Hello World!".getBytes()));
    }
  }

  @Test
  void queueGroupsOverWebSocketsGetEachMessageExactlyOncePerGroup() throws Exception {
    List<NettyWebSocket> a = new ArrayList<>();
    List<NettyWebSocket> b = new ArrayList<>();
    try (NettyWebSocket plain = new NettyWebSocket(ws(sidecar.get(), "/broker?topic=jobs"))) {
      for (int i = 0; i < 3; i++) {
        a.add(new NettyWebSocket(ws(sidecar.get(), "/broker?topic=jobs&queue=a")));
      }
      for (int i = 0; i < 2; i++) {
        b.add(new NettyWebSocket(ws(sidecar.get(), "/broker?topic=jobs&queue=b")));
      }
      awaitSubscribers(sidecar.get(), "jobs", 6);
      int n = 60;
      for (int i = 0; i < n; i++) {
        assertThat(send(sidecar.get(), "POST", "/broker?topic=jobs", "job-" + i).statusCode()).isEqualTo(200);
      }
      List<String> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        all.add(body(take(plain.frames)));
      }
      assertThat(all).hasSize(n).doesNotHaveDuplicates();
      for (List<NettyWebSocket> group : List.of(a, b)) {
        await().atMost(WAIT).until(() -> group.stream().mapToInt(c -> c.frames.size()).sum() >= n);
        List<String> got = new ArrayList<>();
        for (NettyWebSocket c : group) {
          assertThat(c.frames).as("every member gets some").isNotEmpty();
          for (String f : c.frames) {
            got.add(body(f));
          }
        }
        assertThat(got).containsExactlyInAnyOrderElementsOf(all);
      }
    } finally {
      a.forEach(NettyWebSocket::close);
      b.forEach(NettyWebSocket::close);
    }
    await().atMost(WAIT).until(() -> sidecar.broker().stats("jobs").equals(BrokerStats.EMPTY));
  }

  @Test
  void fiftySubscribersEachGetEveryMessageInOrder() throws Exception {
    List<NettyWebSocket> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 50; i++) {
        clients.add(new NettyWebSocket(ws(sidecar.get(), "/broker?topic=crowd")));
      }
      awaitSubscribers(sidecar.get(), "crowd", 50);
      List<String> sent = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        sent.add("m" + i);
        sidecar.broker().publish("crowd", Message.of(Map.of("Content-Type", "text/plain"), ("m" + i).getBytes())).block(WAIT);
      }
      for (NettyWebSocket c : clients) {
        List<String> got = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
          got.add(body(take(c.frames)));
        }
        assertThat(got).containsExactlyElementsOf(sent);
      }
    } finally {
      clients.forEach(NettyWebSocket::close);
    }
    await().atMost(WAIT).until(() -> sidecar.broker().stats("crowd").equals(BrokerStats.EMPTY));
  }

  /** Small enough that a stalled subscriber passes it within a few hundred 4 KiB messages. */
  static final long PENDING = 256 * 1024;

  @Test
  void aStalledSubscriberDropsItsOldestWhileAnotherReceivesEverything() throws Exception {
    try (Sidecar small = Sidecar.start(TestSidecars.local()
        .withBroker(new BrokerConfig(1024, BrokerConfig.Overflow.DROP_OLDEST).withPending(PENDING, 64L << 20)))) {
      try (RawWebSocket stalled = RawWebSocket.connect(small.port(), "/broker?topic=firehose", 4096);
           NettyWebSocket fast = new NettyWebSocket(ws(small, "/broker?topic=firehose"))) {
        assertThat(stalled.status).isEqualTo(101);
        awaitSubscribers(small, "firehose", 2);
        byte[] payload = new byte[4096];
        int published = 0;
        // Publish in batches, letting the fast reader catch up after each, until the stalled one's
        // socket and backlog are full and it has dropped a good number.
        while (small.broker().stats("firehose").dropped() < 256 && published < 50_000) {
          for (int i = 0; i < 32; i++, published++) {
            small.broker().publish("firehose", Message.of(Map.of("N", Integer.toString(published)), payload)).block(WAIT);
          }
          int expected = published;
          soon().until(() -> fast.frames.size() == expected);
          // what waits for the stalled one's socket stays within its limit (and one frame)
          assertThat(small.fanOut().pending()).isLessThanOrEqualTo(PENDING + 8192);
        }
        BrokerStats stats = small.broker().stats("firehose");
        assertThat(stats.dropped()).as("drops counted after %d messages", published).isGreaterThanOrEqualTo(256);
        assertThat(stats.buffered()).as("the stalled one's backlog").isPositive();
        assertThat(stats.subscribers()).as("dropping, not cut off").isEqualTo(2);
        assertThat(stats.cut()).isZero();
        assertThat(small.broker().stats().dropped()).isEqualTo(stats.dropped());
        // the fast subscriber got every message, in order
        int n = 0;
        for (String f : fast.frames) {
          assertThat(JSON.readTree(f).get("Header").get("N").asText()).isEqualTo(Integer.toString(n++));
        }
        assertThat(n).isEqualTo(published);
      }
      await().atMost(WAIT).until(() -> small.broker().stats("firehose").equals(BrokerStats.EMPTY));
      await().atMost(WAIT).until(() -> small.fanOut().pending() == 0);
      assertHealthy(small);
    }
  }

  @Test
  void underTheClosePolicyASubscriberPastItsPendingBytesIsClosedWith1013() throws Exception {
    try (Sidecar strict = Sidecar.start(TestSidecars.local()
        .withBroker(new BrokerConfig(16, BrokerConfig.Overflow.CLOSE).withPending(PENDING, 64L << 20)))) {
      try (RawWebSocket stalled = RawWebSocket.connect(strict.port(), "/broker?topic=strict", 4096);
           NettyWebSocket fast = new NettyWebSocket(ws(strict, "/broker?topic=strict"))) {
        awaitSubscribers(strict, "strict", 2);
        byte[] payload = new byte[4096];
        int published = 0;
        while (strict.broker().stats("strict").subscribers() == 2 && published < 50_000) {
          for (int i = 0; i < 8; i++, published++) {
            strict.broker().publish("strict", Message.of(Map.of(), payload)).block(WAIT);
          }
          int expected = published;
          soon().until(() -> fast.frames.size() == expected);
        }
        assertThat(strict.broker().stats("strict").subscribers()).as("the stalled one left").isEqualTo(1);
        assertThat(strict.broker().stats("strict").cut()).isEqualTo(1);
        assertThat(strict.broker().stats().cut()).isEqualTo(1);
        assertThat(strict.broker().stats().dropped()).as("what it had queued is lost, and counted").isPositive();
        // reading again, it finds the close frame behind what was already on its way
        assertThat(stalled.readUntilClose()).isEqualTo(1013);
        // the other subscriber carries on
        strict.broker().publish("strict", Message.of(Map.of(), "after".getBytes())).block(WAIT);
        int total = published + 1;
        await().atMost(WAIT).until(() -> fast.frames.size() == total);
        assertThat(fast.closed).isNull();
      }
      assertHealthy(strict);
    }
  }

  /**
   * The burst of issue 15: one WebSocket publisher sends 20,000 messages of 1,000 bytes as fast as it
   * can to a topic with a subscriber that never reads and one that reads as fast as it can. The reader
   * gets all of them, in order; the stalled one is cut off past its limit, and counted; what the
   * sidecar held for them never passed the limits.
   *
   * <p>The publisher stays at most {@link #AHEAD} messages (3 MB) ahead of the slowest of its readers
   * (the reader and its own subscription): a reader that falls 8 MiB behind is cut off as a slow
   * consumer, as it should be, and on a busy machine the test's own readers can (CI once saw a second
   * subscriber cut so, by its port the publisher's own). The stalled subscriber still passes its limit: 20 MB go its way.
   */
  @Test
  void aBurstReachesAReaderWholeWhileAStalledSubscriberIsCutOff() throws Exception {
    long limit = 8L << 20;
    int count = 20_000;
    try (Sidecar s = Sidecar.start(TestSidecars.local()
        .withBroker(new BrokerConfig(1024, BrokerConfig.Overflow.CLOSE).withPending(limit, 64L << 20)))) {
      try (RawWebSocket stalled = RawWebSocket.connect(s.port(), "/broker?topic=burst", 4096);
           NettyWebSocket reader = new NettyWebSocket(ws(s, "/broker?topic=burst"))) {
        awaitSubscribers(s, "burst", 2);
        String pad = "x".repeat(995);
        // a WebSocket publisher subscribes to its topic too, and reads what it publishes
        try (NettyWebSocket publisher = new NettyWebSocket(ws(s, "/broker?topic=burst"))) {
          awaitSubscribers(s, "burst", 3);
          for (int i = 0; i < count; i++) {
            publisher.send(String.format("%05d", i) + pad);
            if ((i + 1) % 1000 == 0) {
              int behind = i + 1 - AHEAD;
              await().atMost(WAIT).until(() -> Math.min(reader.frames.size(), publisher.frames.size()) >= behind);
            }
          }
          // cut off once past its limit, well before the burst ends; reading now, it finds the close
          // behind what was already on its way
          await().atMost(Duration.ofSeconds(60)).until(() -> s.broker().stats("burst").cut() == 1);
          assertThat(stalled.readUntilClose()).isEqualTo(1013);
          await().atMost(Duration.ofSeconds(60)).until(() -> reader.frames.size() >= count);
        }
        int n = 0;
        for (String f : reader.frames) {
          String body = body(f);
          assertThat(body).hasSize(1000);
          assertThat(body).startsWith(String.format("%05d", n++));
        }
        assertThat(n).isEqualTo(count);
        assertThat(reader.closed).isNull();
        assertThat(s.broker().stats().cut()).as("only the stalled one").isEqualTo(1);
        assertThat(s.fanOut().peak()).as("the most the sidecar held for its subscribers")
            .isLessThanOrEqualTo(2 * limit + (1 << 20));
      }
      assertHealthy(s);
    }
  }

  @Test
  void pastTheBrokerWideCapTheLargestPendingSubscriberIsCutFirst() throws Exception {
    long limit = 4L << 20;
    long cap = 5L << 20;
    try (Sidecar s = Sidecar.start(TestSidecars.local()
        .withBroker(new BrokerConfig(1024, BrokerConfig.Overflow.DROP_OLDEST).withPending(limit, cap)))) {
      // two stalled subscribers on two topics
      try (RawWebSocket big = RawWebSocket.connect(s.port(), "/broker?topic=big", 4096);
           RawWebSocket small = RawWebSocket.connect(s.port(), "/broker?topic=small", 4096)) {
        awaitSubscribers(s, "big", 1);
        awaitSubscribers(s, "small", 1);
        // "big" fills up to near its own limit, alone under the cap
        for (int i = 0; i < 50_000 && s.fanOut().pending() < limit * 7 / 8; i++) {
          s.broker().publish("big", Message.of(Map.of(), new byte[4096])).block(WAIT);
        }
        assertThat(s.broker().stats().cut()).isZero();
        // "small" grows until the two together pass the cap: "big", holding more than twice as much
        // then, is the one cut
        for (int i = 0; i < 50_000 && s.broker().stats().cut() == 0; i++) {
          s.broker().publish("small", Message.of(Map.of(), new byte[1024])).block(WAIT);
        }
        await().atMost(WAIT).until(() -> s.broker().stats("big").subscribers() == 0);
        assertThat(s.broker().stats("small").subscribers()).as("the smaller one stays").isEqualTo(1);
        assertThat(s.broker().stats().cut()).isEqualTo(1);
        assertThat(big.readUntilClose()).isEqualTo(1013);
        assertThat(s.fanOut().pending()).isLessThanOrEqualTo(cap);
      }
      assertHealthy(s);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"AUTO", "IO_URING"})
  void subscribersThatKeepUpAreNeverChargedWithWhatTheyHaveReceived(SidecarConfig.IoBackend backend) throws Exception {
    // on io_uring a write completes only when the kernel reports it, after the flush
    Assumptions.assumeTrue(backend != SidecarConfig.IoBackend.IO_URING || IoUring.isAvailable(), "io_uring refused here");
    long cap = 256 * 1024;
    try (Sidecar s = Sidecar.start(TestSidecars.local().withIoBackend(backend)
        .withBroker(new BrokerConfig(1024, BrokerConfig.Overflow.DROP_OLDEST).withPending(cap, cap)))) {
      List<NettyWebSocket> readers = new ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          readers.add(new NettyWebSocket(ws(s, "/broker?topic=steady")));
        }
        awaitSubscribers(s, "steady", 10);
        // each frame (about 32 KiB) is under the socket's high-water mark and every limit; ten readers of it
        // together pass the broker-wide cap only if what each has been sent is still counted against it
        for (int n = 1; n <= 20; n++) {
          s.broker().publish("steady", Message.of(Map.of(), new byte[24 * 1024])).block(WAIT);
          int expected = n;
          soon().until(() -> readers.stream().allMatch(r -> r.frames.size() == expected));
        }
        assertThat(s.broker().stats().cut()).isZero();
        assertThat(s.broker().stats("steady").subscribers()).isEqualTo(10);
        assertThat(s.broker().stats().dropped()).isZero();
        await().atMost(WAIT).until(() -> s.fanOut().pending() == 0);
      } finally {
        readers.forEach(NettyWebSocket::close);
      }
      assertHealthy(s);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"one frame,1", "fragments,3"})
  void aMessageOverTheFrameLimitClosesWith1009(String name, int fragments) throws Exception {
    try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker?topic=big", 0)) {
      awaitSubscribers(sidecar.get(), "big", 1);
      byte[] part = new byte[(16 * 1024) / fragments + 1024];
      for (int i = 0; i < fragments; i++) {
        c.send(i == 0 ? RawWebSocket.BINARY : RawWebSocket.CONTINUATION, i == fragments - 1, part);
      }
      assertThat(c.readUntilClose()).isEqualTo(1009);
    }
    await().atMost(WAIT).until(() -> sidecar.broker().stats("big").equals(BrokerStats.EMPTY));
    assertHealthy(sidecar.get());
  }

  @Test
  void aMessageJustUnderTheLimitGoesThrough() throws Exception {
    try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker?topic=edge", 0)) {
      byte[] payload = new byte[16 * 1024];
      c.send(RawWebSocket.BINARY, false, Arrays.copyOf(payload, 8 * 1024));
      c.send(RawWebSocket.CONTINUATION, true, Arrays.copyOf(payload, 8 * 1024));
      RawWebSocket.Frame f = c.read();
      assertThat(JSON.readTree(f.text()).get("Body").binaryValue()).hasSize(16 * 1024);
    }
  }

  @Test
  void anUpgradeWithoutATopicIs400BeforeUpgrading() throws Exception {
    try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker", 0)) {
      assertThat(c.status).isEqualTo(400);
      assertThat(c.answer).endsWith("\r\n\r\nTopic not specified\n");
    }
    try (RawWebSocket c = RawWebSocket.connect(sidecar.port(), "/broker?topic=&queue=q", 0)) {
      assertThat(c.status).isEqualTo(400);
    }
    assertHealthy(sidecar.get());
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource(delimiter = '|', value = {
      "POST   | /broker              | 400 | Topic not specified",
      "POST   | /broker?queue=q      | 400 | Topic not specified",
      "GET    | /broker?topic=foo    | 400 | broker: GET needs a WebSocket upgrade (expected: Upgrade: websocket to subscribe, or POST to publish)",
      "GET    | /broker              | 400 | Topic not specified",
      "PUT    | /broker?topic=foo    | 405 | Method not allowed",
      "DELETE | /broker?topic=foo    | 405 | Method not allowed",
  })
  void badRequestsGetTheRightStatusAndOneLine(String method, String path, int status, String line) throws Exception {
    HttpResponse<String> r = send(sidecar.get(), method, path, method.equals("GET") ? null : "x");
    assertThat(r.statusCode()).isEqualTo(status);
    assertThat(r.body()).isEqualTo(line + "\n");
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("text/plain"));
    if (status == 405) {
      assertThat(r.headers().firstValue("allow")).hasValue("GET, POST");
    }
    assertHealthy(sidecar.get());
  }

  @Test
  void aPostOverTheBodyLimitIs413() throws Exception {
    HttpResponse<String> r = send(sidecar.get(), "POST", "/broker?topic=huge", "x".repeat(SidecarConfig.DEFAULT_MAX_BODY_BYTES + 1));
    assertThat(r.statusCode()).isEqualTo(413);
    assertHealthy(sidecar.get());
  }

  /** The handler alone on a server of its own, with its own broker, so the broker can close under it. */
  static void withHandler(Duration pingEvery, HandlerTest test) throws Exception {
    Broker broker = Broker.memory(BrokerConfig.DEFAULT);
    BrokerSocketHandler handler = new BrokerSocketHandler(broker, new Sessions(), new FanOut(BrokerConfig.DEFAULT),
        BrokerSocketHandler.DEFAULT_MAX_FRAME_BYTES, pingEvery);
    DisposableServer server = HttpServer.create().host("127.0.0.1").port(0)
        .handle((req, res) -> handler.handle(res, "t", null, null))
        .bindNow(WAIT);
    try {
      test.run(broker, "ws://127.0.0.1:" + server.port() + "/");
    } finally {
      server.disposeNow(WAIT);
      broker.close();
    }
  }

  interface HandlerTest {
    void run(Broker broker, String uri) throws Exception;
  }

  @Test
  void closingTheBrokerClosesSubscribersWith1001() throws Exception {
    withHandler(BrokerSocketHandler.DEFAULT_PING_EVERY, (broker, uri) -> {
      try (JdkWebSocket c = JdkWebSocket.connect(uri)) {
        await().atMost(WAIT).until(() -> broker.stats("t").subscribers() == 1);
        broker.close();
        assertThat(c.closeCode.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1001);
      }
    });
  }

  @Test
  void idleConnectionsArePinged() throws Exception {
    withHandler(Duration.ofMillis(50), (broker, uri) -> {
      try (JdkWebSocket c = JdkWebSocket.connect(uri)) {
        await().atMost(WAIT).until(() -> c.pings.get() >= 2);
        c.sendText("still here");
        assertThat(body(take(c.frames))).isEqualTo("still here");
      }
    });
  }
}
