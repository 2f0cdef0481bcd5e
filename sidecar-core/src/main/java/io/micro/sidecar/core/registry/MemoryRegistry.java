package io.micro.sidecar.core.registry;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * The embedded registry. Writes take one lock, rebuild the affected service's immutable view and emit
 * their event while still holding it, so events are serialised; reads are a map lookup on that view.
 */
final class MemoryRegistry implements Registry {

  private static final int WATCH_BUFFER = 1024;

  private final Ticker ticker;
  private final Object lock = new Object();
  /** name → version → versioned entry; guarded by {@link #lock}. */
  private final Map<String, Map<String, Versioned>> services = new HashMap<>();
  /** Immutable answers per name, replaced whole on every write. */
  private final Map<String, List<Service>> view = new ConcurrentHashMap<>();
  private final Sinks.Many<RegistryEvent> events = Sinks.many().multicast().directBestEffort();
  private final Disposable sweeper;
  /** Ticker reading at which the next node expires; written under {@link #lock}. */
  private volatile long nextExpiry = Long.MAX_VALUE;

  MemoryRegistry(Ticker ticker, Duration sweepEvery) {
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.sweeper = Schedulers.parallel().schedulePeriodically(
        this::expireDue, sweepEvery.toNanos(), sweepEvery.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public Mono<Void> register(Service service, Duration ttl) {
    return Mono.fromRunnable(() -> doRegister(service, ttl));
  }

  @Override
  public Mono<Void> deregister(Service service) {
    return Mono.fromRunnable(() -> doDeregister(service));
  }

  @Override
  public List<Service> find(String name) {
    expireIfDue();
    return view.getOrDefault(name, List.of());
  }

  @Override
  public Mono<List<Service>> list() {
    return Mono.fromSupplier(() -> {
      expireIfDue();
      List<Service> all = new ArrayList<>();
      new TreeMap<>(view).values().forEach(all::addAll);
      return all;
    });
  }

  @Override
  public Flux<RegistryEvent> watch() {
    return events.asFlux().onBackpressureBuffer(WATCH_BUFFER);
  }

  @Override
  public void close() {
    sweeper.dispose();
    synchronized (lock) {
      events.tryEmitComplete();
    }
  }

  private void doRegister(Service service, Duration ttl) {
    ServiceCodec.validate(service);
    long expiresAt = ttl == null || ttl.isZero() || ttl.isNegative()
        ? Long.MAX_VALUE : ticker.read() + ttl.toNanos();
    synchronized (lock) {
      Versioned entry = services.computeIfAbsent(service.name(), k -> new HashMap<>())
          .computeIfAbsent(service.version(), k -> new Versioned());
      boolean created = false;
      boolean changed = !Objects.equals(entry.metadata, service.metadata())
          || !Objects.equals(entry.endpoints, service.endpoints());
      entry.metadata = service.metadata();
      entry.endpoints = service.endpoints();
      for (Node node : service.nodes()) {
        Registration previous = entry.nodes.put(node.id(), new Registration(node, expiresAt));
        created |= previous == null;
        changed |= previous != null && !previous.node.equals(node);
      }
      if (expiresAt < nextExpiry) {
        nextExpiry = expiresAt;
      }
      rebuild(service.name());
      if (created || changed) {
        emit(new RegistryEvent(created ? RegistryEvent.Action.CREATE : RegistryEvent.Action.UPDATE,
            service));
      }
    }
  }

  private void doDeregister(Service service) {
    ServiceCodec.validate(service);
    synchronized (lock) {
      Map<String, Versioned> versions = services.get(service.name());
      Versioned entry = versions == null ? null : versions.get(service.version());
      if (entry == null) {
        return;
      }
      List<Node> removed = new ArrayList<>();
      for (Node node : service.nodes()) {
        Registration gone = entry.nodes.remove(node.id());
        if (gone != null) {
          removed.add(gone.node);
        }
      }
      if (removed.isEmpty()) {
        return;
      }
      prune(service.name(), service.version());
      rebuild(service.name());
      emit(new RegistryEvent(RegistryEvent.Action.DELETE, entry.describe(service.name(), service.version(), removed)));
    }
  }

  private void expireIfDue() {
    if (ticker.read() >= nextExpiry) {
      expireDue();
    }
  }

  private void expireDue() {
    synchronized (lock) {
      long now = ticker.read();
      if (now < nextExpiry) {
        return;
      }
      long next = Long.MAX_VALUE;
      for (String name : new ArrayList<>(services.keySet())) {
        boolean touched = false;
        for (String version : new ArrayList<>(services.get(name).keySet())) {
          Versioned entry = services.get(name).get(version);
          List<Node> expired = new ArrayList<>();
          var it = entry.nodes.values().iterator();
          while (it.hasNext()) {
            Registration r = it.next();
            if (r.expiresAt <= now) {
              expired.add(r.node);
              it.remove();
            } else {
              next = Math.min(next, r.expiresAt);
            }
          }
          if (!expired.isEmpty()) {
            touched = true;
            prune(name, version);
            emit(new RegistryEvent(RegistryEvent.Action.DELETE, entry.describe(name, version, expired)));
          }
        }
        if (touched) {
          rebuild(name);
        }
      }
      nextExpiry = next;
    }
  }

  /** Drops an emptied version, and an emptied service. Caller holds the lock. */
  private void prune(String name, String version) {
    Map<String, Versioned> versions = services.get(name);
    if (versions.get(version).nodes.isEmpty()) {
      versions.remove(version);
    }
    if (versions.isEmpty()) {
      services.remove(name);
    }
  }

  /** Replaces the read view of one service. Caller holds the lock. */
  private void rebuild(String name) {
    Map<String, Versioned> versions = services.get(name);
    if (versions == null) {
      view.remove(name);
      return;
    }
    List<Service> answer = new ArrayList<>(versions.size());
    versions.forEach((version, entry) -> answer.add(entry.describe(name, version,
        entry.nodes.values().stream().map(r -> r.node).toList())));
    answer.sort(Comparator.comparing(Service::version));
    view.put(name, List.copyOf(answer));
  }

  /** Caller holds the lock, which is what keeps emissions serialised. */
  private void emit(RegistryEvent event) {
    events.tryEmitNext(event);
  }

  private static final class Versioned {
    Map<String, String> metadata;
    List<Endpoint> endpoints;
    final Map<String, Registration> nodes = new LinkedHashMap<>();

    Service describe(String name, String version, List<Node> nodes) {
      return new Service(name, version, metadata, endpoints, List.copyOf(nodes));
    }
  }

  private record Registration(Node node, long expiresAt) {}
}
