package io.micro.sidecar.server;

import io.micro.sidecar.core.config.AppConfig;
import io.micro.sidecar.core.config.HealthConfig;
import io.micro.sidecar.core.health.HealthChecker;
import io.micro.sidecar.core.health.HealthProbe;
import io.micro.sidecar.core.health.ProbeResult;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.RegistryEvent;
import io.micro.sidecar.core.registry.Service;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.util.retry.Retry;

/**
 * The app this sidecar stands beside: registered at start as node {@code <name>-<uuid>}, deregistered
 * while its health checks fail and registered again when they pass, restored while healthy if anyone
 * else deletes it (anti-entropy), and deregistered for good at shutdown. Owns its health checker and
 * the watch that restores it.
 *
 * <p>Registration never waits for the registry: a registry that is down (etcd) keeps the
 * registration and writes it when it can.
 */
final class AppRegistration implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AppRegistration.class);

  private final Registry registry;
  private final Service service;
  private final Optional<HealthProbe> probe;
  private final HealthChecker checker;
  private final Disposable restorer;
  /** True while the node should be registered: from start, and whenever its health checks pass. */
  private volatile boolean wanted;

  /** @param checkEvery how often the registration is checked for, besides the watch ({@code --register_interval}) */
  AppRegistration(AppConfig app, HealthConfig health, Registry registry, HttpClient http, Duration checkEvery) {
    this.registry = registry;
    Node node = new Node(app.name() + "-" + UUID.randomUUID(), app.address().host(), app.address().port(), null);
    this.service = new Service(app.name(), "", null, null, List.of(node));
    this.probe = health.url().map(url -> new HealthProbe(http, url, health.timeout()));
    register("registered");
    this.checker = probe.map(p -> new HealthChecker(health, p::probe, node.id(), Schedulers.parallel(),
        r -> deregister(), r -> register("registered again"))).orElse(null);
    // Anti-entropy, as Consul's agent does for its own services: the registration is this sidecar's,
    // so while the app is healthy a deletion by anyone else is undone, at once when the watch shows it
    // and at the latest on the next periodic check.
    this.restorer = Flux.merge(
            registry.watch()
                .filter(e -> e.action() == RegistryEvent.Action.DELETE && e.service().name().equals(service.name())
                    && e.service().nodes().stream().anyMatch(n -> n.id().equals(node.id())))
                .map(e -> "was deregistered by someone else"),
            Flux.interval(checkEvery, checkEvery)
                .concatMap(tick -> registry.lookup(service.name()).onErrorResume(e -> Mono.empty()))
                .filter(found -> found.stream().flatMap(v -> v.nodes().stream()).noneMatch(n -> n.id().equals(node.id())))
                .map(found -> "is missing from the registry"))
        // a watch that overflowed or ended is resumed; the periodic check covers what it missed
        .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofSeconds(1)).maxBackoff(checkEvery))
        .filter(why -> wanted)
        .subscribe(why -> {
          log.warn("app node {} {} while the app is healthy; registering it again", nodeId(), why);
          register("restored");
        });
  }

  Service service() {
    return service;
  }

  String nodeId() {
    return service.nodes().get(0).id();
  }

  /** A fresh probe, for {@code GET /health}: healthy when there is no health URL. */
  Mono<ProbeResult> probeNow() {
    return probe.map(HealthProbe::probe).orElse(Mono.just(ProbeResult.ok()));
  }

  private void register(String what) {
    wanted = true;
    registry.registerOwn(service).subscribe(
        ok -> { },
        e -> log.warn("app {} not registered yet ({}); the registry keeps retrying", service.name(), e.toString()),
        () -> log.info("{} app {} as node {}", what, service.name(), nodeId()));
  }

  private void deregister() {
    wanted = false;
    registry.deregister(service).subscribe(ok -> { },
        e -> log.warn("could not deregister app node {}: {}", nodeId(), e.toString()));
  }

  /** Stops health checking and deregisters the app, waiting up to {@code timeout}. */
  void deregisterNow(Duration timeout) {
    wanted = false;
    restorer.dispose();
    if (checker != null) {
      checker.close();
    }
    try {
      registry.deregister(service).block(timeout);
      log.info("deregistered app {} node {}", service.name(), nodeId());
    } catch (RuntimeException e) {
      log.warn("could not deregister app {} node {}: {}", service.name(), nodeId(), e.toString());
    }
  }

  @Override
  public void close() {
    wanted = false;
    restorer.dispose();
    if (checker != null) {
      checker.close();
    }
  }
}
