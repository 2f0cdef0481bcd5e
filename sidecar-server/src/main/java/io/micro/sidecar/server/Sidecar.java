package io.micro.sidecar.server;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.config.AppConfig;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.etcd.EtcdRegistry;
import io.micro.sidecar.server.http.Routes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;

/**
 * One running sidecar: it owns its event loops, registry, broker, HTTP server and the app's registration,
 * starts them in that order and releases them in reverse in {@link #close()}.
 *
 * <p>{@link #start} and {@link #close} block the calling thread (main, a shutdown hook or a test),
 * never an event loop.
 */
public final class Sidecar implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Sidecar.class);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

  private final LoopResources loops;
  private final Registry registry;
  private final Broker broker;
  private final DisposableServer server;
  private final Optional<Service> app;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Sinks.Empty<Void> onClose = Sinks.empty();

  private Sidecar(LoopResources loops, Registry registry, Broker broker, DisposableServer server,
                  Optional<Service> app) {
    this.loops = loops;
    this.registry = registry;
    this.broker = broker;
    this.server = server;
    this.app = app;
  }

  /** Starts a sidecar and returns once it accepts connections and has registered the app. */
  public static Sidecar start(SidecarConfig config) {
    LoopResources loops = LoopResources.create("sidecar", LoopResources.DEFAULT_IO_WORKER_COUNT, true);
    Registry registry = null;
    Broker broker = null;
    DisposableServer server = null;
    try {
      registry = registry(config.registry());
      broker = Broker.memory(config.broker());
      HttpServer http = HttpServer.create()
          .runOn(loops)
          .handle(new Routes(registry, broker, config));
      http = config.listen().anyHost()
          ? http.bindAddress(() -> new InetSocketAddress(config.listen().port()))
          : http.host(config.listen().host()).port(config.listen().port());
      server = http.bindNow(STOP_TIMEOUT);
      Optional<Service> app = config.app().map(Sidecar::describe);
      // Never wait for the registry to start serving: etcd may arrive later, and the registry keeps
      // the registration and writes it when it does.
      Registry target = registry;
      app.ifPresent(service -> target.register(service, Registry.NO_TTL).subscribe(
          ok -> {},
          e -> log.warn("app {} not registered yet ({}); the registry keeps retrying", service.name(), e.toString()),
          () -> log.info("registered app {} as node {}", service.name(), service.nodes().get(0).id())));
      return new Sidecar(loops, registry, broker, server, app);
    } catch (RuntimeException e) {
      if (server != null) {
        server.disposeNow(STOP_TIMEOUT);
      }
      if (broker != null) {
        broker.close();
      }
      if (registry != null) {
        registry.close();
      }
      loops.disposeLater(Duration.ZERO, STOP_TIMEOUT).block(STOP_TIMEOUT);
      throw e;
    }
  }

  /**
   * What {@code micro sidecar} does: start, log where it listens, and serve until SIGTERM or SIGINT,
   * on which the app is deregistered before the server stops.
   *
   * @return the process exit code
   */
  public static int runUntilSignalled(SidecarConfig config) {
    long started = System.nanoTime();
    Sidecar sidecar = start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(sidecar::close, "sidecar-shutdown"));
    log.info("sidecar listening on {} (registry {}) in {} ms",
        new HostPort(config.listen().host(), sidecar.port()), config.registry().kind(),
        (System.nanoTime() - started) / 1_000_000);
    sidecar.onClose().block();
    return 0;
  }

  private static Registry registry(RegistryConfig config) {
    return switch (config.kind()) {
      case MEMORY -> Registry.memory();
      case ETCD -> EtcdRegistry.builder().endpoints(config.addresses()).build();
    };
  }

  private static Service describe(AppConfig app) {
    Node node = new Node(app.name() + "-" + UUID.randomUUID(), app.address().host(), app.address().port(), null);
    return new Service(app.name(), "", null, null, List.of(node));
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.address();
  }

  public int port() {
    return server.port();
  }

  public Registry registry() {
    return registry;
  }

  public Broker broker() {
    return broker;
  }

  /** The app's registration made at start, if any. */
  public Optional<Service> app() {
    return app;
  }

  /** Completes once {@link #close()} has released everything. */
  public Mono<Void> onClose() {
    return onClose.asMono();
  }

  /**
   * Deregisters the app, closes the broker (subscribers' WebSockets close with 1001) and the registry,
   * stops the server and the event loops. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      onClose().block(STOP_TIMEOUT.multipliedBy(2));
      return;
    }
    try {
      if (app.isPresent()) {
        try {
          registry.deregister(app.get()).block(STOP_TIMEOUT);
          log.info("deregistered app {} node {}", app.get().name(), app.get().nodes().get(0).id());
        } catch (RuntimeException e) {
          log.warn("could not deregister app {}: {}", app.get().name(), e.toString());
        }
      }
      broker.close();
      registry.close();
      server.disposeNow(STOP_TIMEOUT);
      loops.disposeLater(Duration.ZERO, STOP_TIMEOUT).block(STOP_TIMEOUT);
      log.info("sidecar stopped");
    } finally {
      onClose.tryEmitEmpty();
    }
  }
}
