package io.micro.sidecar.server;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.broker.HttpBroker;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.health.ProbeResult;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.etcd.EtcdRegistry;
import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.client.Balancer;
import io.micro.sidecar.core.rpc.RpcClient;
import io.micro.sidecar.core.selector.Selector;
import io.micro.sidecar.core.selector.SelectorConfig;
import io.micro.sidecar.server.http.BufferBudget;
import io.micro.sidecar.server.http.ConnectionLimits;
import io.micro.sidecar.server.http.DirectPath;
import io.micro.sidecar.server.http.Guard;
import io.micro.sidecar.server.http.Routes;
import io.micro.sidecar.server.stats.Telemetry;
import io.micro.sidecar.server.websocket.FanOut;
import io.micro.sidecar.server.websocket.Sessions;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;

/**
 * One running sidecar. It owns, in start order, its telemetry, event loops, registry, pool of connections
 * to apps, broker, the app's registration and HTTP server, each pushed on one {@link Closer} as it starts
 * and released from it in reverse: by a start that fails part-way, and by {@link #close()}.
 *
 * <p>Shutdown (SIGTERM, SIGINT or {@link #close()}) goes: not ready; deregister the app; keep
 * serving for the shutdown delay while that propagates; close WebSockets with 1001; stop accepting;
 * answer every request from then on with {@code Connection: close}, giving idle keep-alive connections
 * up to a second to send a last one; let in-flight requests finish and close what is left; release
 * the rest in reverse of start (the broker, the pool, the registry, the loops). It takes at most the
 * shutdown grace; what is left then is cut.
 *
 * <p>{@link #start} and {@link #close} block the calling thread (main, a shutdown hook or a test),
 * never an event loop.
 *
 * <p>Over 300 lines on purpose: it is the composition root, and the start order, the closer and the
 * shutdown order read best as one sequence.
 */
public final class Sidecar implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Sidecar.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration RELEASE_TIMEOUT = Duration.ofSeconds(5);
  /** How long idle keep-alive connections may still send a last request once draining starts. */
  private static final Duration DRAIN_SETTLE = Duration.ofSeconds(1);

  private final SidecarConfig config;
  private final Registry registry;
  private final Broker broker;
  private final Sessions sessions;
  private final DisposableServer server;
  /** Every open client connection, for the drain. */
  private final ChannelGroup channels;
  private final Optional<AppRegistration> app;
  private final DirectPath direct;
  private final FanOut fanOut;
  private final Readiness readiness;
  /** Everything started, released in reverse by {@link #close()} once requests have drained. */
  private final Closer closer;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Sinks.Empty<Void> onClose = Sinks.empty();

  private Sidecar(SidecarConfig config, Registry registry, Broker broker, Sessions sessions, DisposableServer server,
                  ChannelGroup channels, Optional<AppRegistration> app, DirectPath direct, FanOut fanOut,
                  Readiness readiness, Closer closer) {
    this.config = config;
    this.registry = registry;
    this.broker = broker;
    this.sessions = sessions;
    this.server = server;
    this.channels = channels;
    this.app = app;
    this.direct = direct;
    this.fanOut = fanOut;
    this.readiness = readiness;
    this.closer = closer;
  }

  /**
   * Starts a sidecar and returns once it accepts connections; the app's registration goes on in the
   * background. Each part is pushed on one {@link Closer} as it starts: a start that fails releases, in
   * reverse, everything it had started, the app's registration and health checks included.
   */
  public static Sidecar start(SidecarConfig config) {
    Closer closer = new Closer();
    try {
      Telemetry.Meters meters = closer.push("the meters and the access log",
          new Telemetry.Meters(config.observability()), Telemetry.Meters::close);
      LoopResources loops = closer.push("the event loops",
          EventLoops.create(config.ioBackend()),
          l -> l.disposeLater(Duration.ZERO, RELEASE_TIMEOUT).block(RELEASE_TIMEOUT));
      Registry registry = closer.push("the registry", registry(config), Registry::close);
      AppConnections connections = closer.push("the connection pool",
          new AppConnections(config.client(), loops, meters.calls(), config.security().appTrust()),
          AppConnections::close);
      Broker broker = closer.push("the broker", config.broker().kind() == BrokerConfig.Kind.HTTP
          ? HttpBroker.create(config.broker(), registry, peers(config, connections), config.client().requestTimeout())
          : Broker.memory(config.broker()), Broker::close);
      Balancer balancer = new Balancer(registry, Selector.leastOutstanding(new SelectorConfig(
          config.client().ejectAfter(), config.client().ejectFor(), Ticker.systemTicker(),
          SelectorConfig.defaults().random())), config.client().retries());
      RpcClient client = new RpcClient(connections, balancer, config.client());
      Sessions sessions = new Sessions();
      Optional<AppRegistration> app = config.app().map(a -> closer.push("the app's registration",
          new AppRegistration(a, config.health(), registry, connections.http(), config.lifecycle().registerInterval()),
          AppRegistration::close));
      Readiness readiness = new Readiness();
      // In-flight requests are tracked in this group so that stopping the server can wait for them.
      ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
      BufferBudget budget = new BufferBudget(config.limits().maxBufferedBytes());
      ConnectionLimits limits = new ConnectionLimits(config.limits(), budget);
      Telemetry telemetry = closer.push("telemetry", new Telemetry(config.observability(), meters,
          new Telemetry.Watched(registry, broker, connections, balancer.selector(), budget)), Telemetry::close);
      FanOut fanOut = new FanOut(config.broker());
      Routes routes = new Routes(config, registry, broker, client, balancer, connections,
          app.map(a -> (Supplier<Mono<ProbeResult>>) a::probeNow), sessions, readiness::ready, budget, fanOut);
      // the guard covers /stats and /metrics like any route; telemetry hears everything, the guard's refusals too
      Guard guard = new Guard(config.security(), readiness::draining, telemetry.endpoints(routes));
      DirectPath direct = new DirectPath(config, guard, telemetry, budget, client, balancer, connections, broker,
          readiness::draining);
      HttpServer http = HttpServer.create()
          .runOn(loops)
          .channelGroup(channels)
          .httpRequestDecoder(spec -> spec.maxHeaderSize(config.limits().maxHeaderBytes())
              .maxInitialLineLength(config.limits().maxUrlLength()))
          .doOnChannelInit(limits.then(direct))
          .handle(telemetry.observe(guard));
      if (config.security().tls().isPresent()) {
        http = http.secure(spec -> spec.sslContext(Tls.serverContext(config.security().tls().get())));
      }
      http = config.listen().anyHost()
          ? http.bindAddress(() -> new InetSocketAddress(config.listen().port()))
          : http.host(config.listen().host()).port(config.listen().port());
      // a server already stopped by the drain returns at once
      DisposableServer server = closer.push("the server", http.bindNow(START_TIMEOUT), s -> s.disposeNow(RELEASE_TIMEOUT));
      if (broker instanceof HttpBroker peers) {
        peers.listening(config.broker().advertiseHost(config.listen()), server.port(), config.security().tls().isPresent());
      }
      return new Sidecar(config, registry, broker, sessions, server, channels, app, direct, fanOut, readiness, closer);
    } catch (RuntimeException e) {
      closer.closeAll(System.nanoTime() + RELEASE_TIMEOUT.multipliedBy(2).toNanos());
      throw e;
    }
  }

  /**
   * Deliveries to other sidecars carry the shared API token, when there is one, as any client must; to a
   * peer serving TLS they trust {@code --client_tls_ca_file} and present {@code --client_tls_cert_file}.
   */
  private static HttpClient peers(SidecarConfig config, AppConnections connections) {
    HttpClient http = config.security().apiToken()
        .map(token -> connections.http().headers(h -> h.set(HttpHeaderNames.AUTHORIZATION,
            "Bearer " + token)))
        .orElse(connections.http());
    if (config.security().appTrust().isEmpty() && config.security().clientCert().isEmpty()) {
      return http;
    }
    Http11SslContextSpec spec = Tls.peerContext(config.security());
    return http.secure(s -> s.sslContext(spec));
  }

  private static Registry registry(SidecarConfig config) {
    RegistryConfig r = config.registry();
    return switch (r.kind()) {
      case MEMORY -> Registry.memory();
      case ETCD -> EtcdRegistry.builder().endpoints(r.addresses()).prefix(r.prefix())
          .defaultTtl(config.lifecycle().registerTtl()).build();
    };
  }

  /**
   * What {@code micro sidecar} does: start, log where it listens, and serve until SIGTERM or SIGINT,
   * which run {@link #close()}. A watchdog halts the process if shutdown overruns its grace.
   *
   * @return the process exit code
   */
  public static int runUntilSignalled(SidecarConfig config) {
    long started = System.nanoTime();
    Sidecar sidecar = start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      Disposable watchdog = Mono.delay(config.lifecycle().shutdownGrace().plusSeconds(2))
          .subscribe(t -> {
            log.error("shutdown overran its grace of {}; halting", config.lifecycle().shutdownGrace());
            Runtime.getRuntime().halt(1);
          });
      sidecar.close();
      watchdog.dispose();
    }, "sidecar-shutdown"));
    log.info("sidecar listening on {} (registry {}, {}) in {} ms",
        new HostPort(config.listen().host(), sidecar.port()), config.registry().kind(), sidecar.transport(),
        (System.nanoTime() - started) / 1_000_000);
    sidecar.onClose().block();
    return 0;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.address();
  }

  public int port() {
    return server.port();
  }

  /**
   * The kernel interface the event loops use: {@code io_uring}, {@code epoll} or {@code nio}
   * ({@code --io_backend}; docs/operations.md, "The kernel interface").
   */
  public String transport() {
    String name = server.channel().getClass().getName();
    return name.startsWith("io.netty.channel.uring.") ? "io_uring"
        : name.startsWith("io.netty.channel.epoll.") ? "epoll" : "nio";
  }

  public Registry registry() {
    return registry;
  }

  /** How broker messages reach this sidecar's WebSocket subscribers, and what is pending for them. */
  public FanOut fanOut() {
    return fanOut;
  }

  public Broker broker() {
    return broker;
  }

  /** The app's registration made at start, if any. */
  public Optional<Service> app() {
    return app.map(AppRegistration::service);
  }

  /** False from the moment shutdown begins. */
  public boolean ready() {
    return readiness.ready();
  }

  /** Completes once {@link #close()} has released everything. */
  public Mono<Void> onClose() {
    return onClose.asMono();
  }

  /** Shuts down in the order the class describes. Idempotent; a second caller waits for the first. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      onClose().block(config.lifecycle().shutdownGrace().plus(RELEASE_TIMEOUT));
      return;
    }
    long deadline = System.nanoTime() + config.lifecycle().shutdownGrace().toNanos();
    try {
      readiness.stopping();
      log.info("shutting down: deregistering, then serving {} more before draining",
          config.lifecycle().shutdownDelay());
      app.ifPresent(a -> a.deregisterNow(remaining(deadline, RELEASE_TIMEOUT)));
      pause(config.lifecycle().shutdownDelay(), deadline);
      int open = sessions.size();
      sessions.closeAll().block(remaining(deadline, RELEASE_TIMEOUT));
      if (open > 0) {
        log.info("closed {} WebSocket(s) with 1001", open);
      }
      // Stop accepting first, then answer with Connection: close: a client told to reconnect finds the port
      // closed (a clean refusal) rather than a connection the listener's close resets under its request.
      server.channel().close().awaitUninterruptibly(RELEASE_TIMEOUT.toMillis());
      readiness.drain();
      // Keep-alive connections get a moment to send one more request, answered with Connection: close,
      // instead of being closed under a request already on its way.
      long settle = System.nanoTime() + remaining(deadline, DRAIN_SETTLE).toNanos();
      while (!channels.isEmpty() && System.nanoTime() < settle) {
        LockSupport.parkNanos(5_000_000);
      }
      // reactor-netty waits for its own requests but not for the direct path's: those finish first
      while (direct.inFlight() > 0 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(5_000_000);
      }
      // waits for in-flight requests until the grace runs out, closing idle connections
      try {
        server.disposeNow(remaining(deadline, Duration.ofDays(1)).plusMillis(1));
      } catch (IllegalStateException e) {
        log.warn("requests still in flight at the end of the shutdown grace were cut: {}", e.getMessage());
      }
      // the rest in reverse of start, within the grace too
      closer.closeAll(Math.max(deadline, System.nanoTime() + RELEASE_TIMEOUT.toNanos()));
      log.info("sidecar stopped");
    } catch (RuntimeException e) {
      log.warn("shutdown cut short: {}", e.toString());
    } finally {
      onClose.tryEmitEmpty();
    }
  }

  private static Duration remaining(long deadline, Duration atMost) {
    Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    return left.compareTo(atMost) < 0 ? left : atMost;
  }

  /** Waits while the server keeps serving; this runs on main or the shutdown hook, never an event loop. */
  private static void pause(Duration delay, long deadline) {
    Mono.delay(remaining(deadline, delay)).block();
  }
}
