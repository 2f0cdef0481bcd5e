package io.micro.sidecar.server;

import io.micro.sidecar.core.config.AppConfig;
import io.micro.sidecar.core.config.HealthConfig;
import io.micro.sidecar.core.health.HealthChecker;
import io.micro.sidecar.core.health.HealthProbe;
import io.micro.sidecar.core.health.ProbeResult;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;

/**
 * The app this sidecar stands beside: registered at start as node {@code <name>-<uuid>}, deregistered
 * while its health checks fail and registered again when they pass, and deregistered for good at
 * shutdown. Owns its health checker.
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

  AppRegistration(AppConfig app, HealthConfig health, Registry registry, HttpClient http) {
    this.registry = registry;
    Node node = new Node(app.name() + "-" + UUID.randomUUID(), app.address().host(), app.address().port(), null);
    this.service = new Service(app.name(), "", null, null, List.of(node));
    this.probe = health.url().map(url -> new HealthProbe(http, url, health.timeout()));
    register("registered");
    this.checker = probe.map(p -> new HealthChecker(health, p::probe, node.id(), Schedulers.parallel(),
        r -> deregister(), r -> register("registered again"))).orElse(null);
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
    registry.register(service, Registry.NO_TTL).subscribe(
        ok -> { },
        e -> log.warn("app {} not registered yet ({}); the registry keeps retrying", service.name(), e.toString()),
        () -> log.info("{} app {} as node {}", what, service.name(), nodeId()));
  }

  private void deregister() {
    registry.deregister(service).subscribe(ok -> { },
        e -> log.warn("could not deregister app node {}: {}", nodeId(), e.toString()));
  }

  /** Stops health checking and deregisters the app, waiting up to {@code timeout}. */
  void deregisterNow(Duration timeout) {
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
    if (checker != null) {
      checker.close();
    }
  }
}
