package io.micro.sidecar.core.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** Calls that stay on the caller's event loop, against a real HTTP app on loopback. */
class LoopClientIT {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final MultiThreadIoEventLoopGroup loops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final AtomicInteger appConnections = new AtomicInteger();
  private DisposableServer app;
  private LoopClient client;
  private volatile Duration appDelay = Duration.ZERO;

  @BeforeEach
  void start() {
    app = HttpServer.create().host("127.0.0.1").port(0)
        .doOnChannelInit((observer, channel, remote) -> appConnections.incrementAndGet())
        .handle((req, res) -> req.receive().aggregate().asString().defaultIfEmpty("")
            .delayElement(appDelay)
            // bytes, not sendString: a delayed answer to a connection the client closed would leak its buffer
            .flatMap(body -> res.header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length() + 4))
                .sendByteArray(Mono.just(("got " + body).getBytes(StandardCharsets.UTF_8))).then()))
        .bindNow();
    client = new LoopClient(4, 32, Duration.ofSeconds(30), Duration.ZERO, Duration.ofSeconds(1), Optional.empty());
  }

  @AfterEach
  void stop() {
    client.close();
    app.disposeNow();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** A channel registered on one loop, standing in for the connection a request came in on. */
  private Channel callerOn(EventLoop loop) {
    NioSocketChannel ch = new NioSocketChannel();
    loop.register(ch).syncUninterruptibly();
    return ch;
  }

  private Mono<String> call(Channel caller, int port, String body, Duration deadline) {
    return call(caller, "127.0.0.1", port, body, deadline);
  }

  private Mono<String> call(Channel caller, String host, int port, String body, Duration deadline) {
    return Mono.<FullHttpResponse>create(sink -> sink.onDispose(client.exchange(caller, host, port, alloc -> {
          DefaultFullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/",
              alloc.buffer().writeBytes(body.getBytes(StandardCharsets.UTF_8)));
          r.headers().set(HttpHeaderNames.HOST, "app").setInt(HttpHeaderNames.CONTENT_LENGTH, body.length());
          return r;
        }, System.nanoTime() + deadline.toNanos(), Callback.of(sink))))
        .map(answer -> {
          try {
            return answer.content().toString(StandardCharsets.UTF_8);
          } finally {
            answer.release();
          }
        });
  }

  private Optional<EventLoop> idleConnectionLoop(EventLoop loop) throws Exception {
    return loop.submit(() -> client.idleConnectionLoop(loop, "127.0.0.1", app.port())).get(5, TimeUnit.SECONDS);
  }

  @Test
  void aCallUsesAConnectionOfItsCallersLoopAndReusesIt() throws Exception {
    EventLoop a = loops.next();
    EventLoop b = loops.next();
    assertThat(a).isNotSameAs(b);
    Channel onA = callerOn(a);
    Channel onB = callerOn(b);

    assertThat(call(onA, app.port(), "one", WAIT).block(WAIT)).isEqualTo("got one");
    assertThat(call(onA, app.port(), "two", WAIT).block(WAIT)).isEqualTo("got two");
    assertThat(appConnections.get()).as("the second call reused the first one's connection").isEqualTo(1);
    assertThat(idleConnectionLoop(a)).contains(a);

    assertThat(call(onB, app.port(), "three", WAIT).block(WAIT)).isEqualTo("got three");
    assertThat(appConnections.get()).as("another loop has its own connection").isEqualTo(2);
    assertThat(idleConnectionLoop(b)).contains(b);
    assertThat(client.stats().idle()).isEqualTo(2);
  }

  @Test
  void aRefusedConnectionIsAConnectExceptionTheBalancerMayRetry() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Channel caller = callerOn(loops.next());
    assertThatThrownBy(() -> call(caller, closed, "x", WAIT).block(WAIT))
        .satisfies(e -> assertThat(Balancer.neverReached(e)).isTrue());
  }

  @Test
  void aCallAfterCloseIsNeverReachedAndOpensNoConnection() {
    Channel caller = callerOn(loops.next());
    client.close();

    assertThatThrownBy(() -> call(caller, app.port(), "late", WAIT).block(WAIT))
        .satisfies(e -> assertThat(Balancer.neverReached(e)).isTrue())
        .hasMessageContaining("sidecar stopping");
    assertThat(appConnections.get()).as("no connection to the app after close").isZero();
    assertThat(client.stats().active() + client.stats().idle()).isZero();
    assertThat(client.stats().pools()).as("no pool made for it either").isZero();
  }

  @Test
  void theDeadlineRunsOnTheLoopAndTheAbandonedConnectionIsNotReused() {
    appDelay = Duration.ofSeconds(3);
    Channel caller = callerOn(loops.next());
    assertThatThrownBy(() -> call(caller, app.port(), "slow", Duration.ofMillis(200)).block(WAIT))
        .hasCauseInstanceOf(TimeoutException.class);
    appDelay = Duration.ZERO;
    assertThat(call(caller, app.port(), "next", WAIT).block(WAIT)).isEqualTo("got next");
    assertThat(appConnections.get()).as("the timed-out call's connection was closed, not reused").isEqualTo(2);
  }

  @Test
  void theDeadlineOfACallOnAPooledConnectionClosesItToo() {
    Channel caller = callerOn(loops.next());
    assertThat(call(caller, app.port(), "first", WAIT).block(WAIT)).isEqualTo("got first");
    appDelay = Duration.ofSeconds(3);
    assertThatThrownBy(() -> call(caller, app.port(), "slow", Duration.ofMillis(200)).block(WAIT))
        .hasCauseInstanceOf(TimeoutException.class);
    assertThat(appConnections.get()).as("the slow call went out on the pooled connection").isEqualTo(1);
    appDelay = Duration.ZERO;
    assertThat(call(caller, app.port(), "next", WAIT).block(WAIT)).isEqualTo("got next");
    assertThat(appConnections.get()).as("the timed-out call's connection was closed, not reused").isEqualTo(2);
  }

  @Test
  void idleConnectionsCloseAfterTheIdleTimeout() {
    client.close();
    client = new LoopClient(4, 32, Duration.ofSeconds(1), Duration.ZERO, Duration.ofSeconds(1), Optional.empty());
    Channel caller = callerOn(loops.next());
    assertThat(call(caller, app.port(), "one", WAIT).block(WAIT)).isEqualTo("got one");
    assertThat(call(caller, app.port(), "two", WAIT).block(WAIT)).isEqualTo("got two");
    // the answer reaches the caller just before its connection goes back to the pool
    await().atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(() -> client.stats().idle() == 1);
    await().atMost(WAIT).until(() -> client.stats().idle() == 0);
    assertThat(call(caller, app.port(), "three", WAIT).block(WAIT)).isEqualTo("got three");
    assertThat(appConnections.get()).as("a new connection after the idle one closed").isEqualTo(2);
  }

  @Test
  void aCallerThatLeavesLetsTheAnswerArriveAndTheConnectionIsReused() throws Exception {
    appDelay = Duration.ofMillis(300);
    Channel caller = callerOn(loops.next());
    Disposable left = call(caller, app.port(), "abandoned", WAIT).subscribe();
    await().atMost(WAIT).until(() -> appConnections.get() == 1);
    left.dispose();
    await().atMost(WAIT).untilAsserted(() -> assertThat(client.stats().idle()).isEqualTo(1));
    appDelay = Duration.ZERO;
    assertThat(call(caller, app.port(), "after", WAIT).block(WAIT)).isEqualTo("got after");
    assertThat(appConnections.get()).isEqualTo(1);
  }

  @Test
  void aNodeRegisteredByNameIsLookedUpOffTheLoopWhileTheLoopsOtherCallsGoOn() throws Exception {
    CountDownLatch dnsAnswers = new CountDownLatch(1);
    List<String> lookedUp = new CopyOnWriteArrayList<>();
    ExecutorService blocking = Executors.newSingleThreadExecutor();
    try {
      client.close();
      client = new LoopClient(4, 32, Duration.ofSeconds(30), Duration.ZERO, Duration.ofSeconds(1), Optional.empty(),
          new OffLoopNames(host -> {
            lookedUp.add(host);
            try {
              dnsAnswers.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return new InetAddress[] {InetAddress.getLoopbackAddress()};
          }, blocking, WAIT));
      Channel caller = callerOn(loops.next());
      CompletableFuture<String> byName = call(caller, "app.example", app.port(), "by name", WAIT).toFuture();
      await().atMost(WAIT).until(() -> lookedUp.contains("app.example"));
      // the name's lookup hangs: a call to a node registered by IP on the same loop is answered meanwhile
      assertThat(call(caller, "127.0.0.1", app.port(), "by ip", WAIT).block(WAIT)).isEqualTo("got by ip");
      assertThat(byName).isNotDone();
      dnsAnswers.countDown();
      assertThat(byName.get(10, TimeUnit.SECONDS)).isEqualTo("got by name");
      assertThat(lookedUp).as("the IP address was never looked up").containsExactly("app.example");
    } finally {
      dnsAnswers.countDown();
      blocking.shutdownNow();
    }
  }

  @Test
  void aNodeRegisteredAsLocalhostIsReachedThroughTheSystemsLookup() {
    Channel caller = callerOn(loops.next());
    assertThat(call(caller, "localhost", app.port(), "named", WAIT).block(WAIT)).isEqualTo("got named");
  }

  @Test
  void aNameThatDoesNotResolveIsNeverReachedSoTheBalancerMayRetry() {
    ExecutorService blocking = Executors.newSingleThreadExecutor();
    try {
      client.close();
      client = new LoopClient(4, 32, Duration.ofSeconds(30), Duration.ZERO, Duration.ofSeconds(1), Optional.empty(),
          new OffLoopNames(host -> {
            throw new UnknownHostException(host);
          }, blocking, WAIT));
      Channel caller = callerOn(loops.next());
      assertThatThrownBy(() -> call(caller, "gone.example", app.port(), "x", WAIT).block(WAIT))
          .satisfies(e -> assertThat(Balancer.neverReached(e)).isTrue())
          .hasMessageContaining("gone.example");
    } finally {
      blocking.shutdownNow();
    }
  }

  /** A DNS server that never answers: the node is one never reached once the lookup's time is up, not a timeout. */
  @Test
  void aNameWhoseLookupHangsIsNeverReachedOnceItsTimeIsUp() {
    CountDownLatch never = new CountDownLatch(1);
    ExecutorService blocking = Executors.newSingleThreadExecutor();
    try {
      client.close();
      client = new LoopClient(4, 32, Duration.ofSeconds(30), Duration.ZERO, Duration.ofSeconds(1), Optional.empty(),
          new OffLoopNames(host -> {
            try {
              never.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return new InetAddress[] {InetAddress.getLoopbackAddress()};
          }, blocking, Duration.ofMillis(300)));
      Channel caller = callerOn(loops.next());
      assertThatThrownBy(() -> call(caller, "hung.example", app.port(), "x", WAIT).block(WAIT))
          .satisfies(e -> assertThat(Balancer.neverReached(e)).isTrue())
          .hasMessageContaining("hung.example");
    } finally {
      never.countDown();
      blocking.shutdownNow();
    }
  }

  @Test
  void callsBeyondThePerLoopLimitWaitForAConnection() {
    appDelay = Duration.ofMillis(100);
    Channel caller = callerOn(loops.next());
    List<String> answers = Flux.range(0, 12)
        .flatMap(i -> call(caller, app.port(), "n" + i, WAIT))
        .collectList().block(WAIT);
    assertThat(answers).hasSize(12);
    assertThat(appConnections.get()).as("at most four connections on one loop").isEqualTo(4);
  }
}
