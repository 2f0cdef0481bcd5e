package io.micro.sidecar.core.registry;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * The embedded registry. Each node is an entry of the {@link ServiceIndex} under its service's name,
 * version and id. Writes take one lock, update the index, publish the changed service's answer and
 * emit their event while still holding it, so events are serialised and come after lookups show the
 * change; reads are a map lookup on the published answers.
 */
final class MemoryRegistry implements Registry {

  private static final int WATCH_BUFFER = 1024;

  private final Ticker ticker;
  private final Object lock = new Object();
  /** Guarded by {@link #lock}, except its lookups. */
  private final ServiceIndex index = new ServiceIndex();
  /** Entry key → ticker reading at which it expires (absent: never); guarded by {@link #lock}. */
  private final Map<String, Long> expiries = new HashMap<>();
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
    return index.find(name);
  }

  @Override
  public NodeSet nodes(String name) {
    expireIfDue();
    return index.nodes(name);
  }

  @Override
  public Mono<List<Service>> list() {
    return Mono.fromSupplier(() -> {
      expireIfDue();
      return index.list();
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

  private static String key(String name, String version, Node node) {
    return name + '\u0000' + version + '\u0000' + node.id();
  }

  private void doRegister(Service service, Duration ttl) {
    ServiceCodec.validate(service);
    long expiresAt = ttl == null || ttl.isZero() || ttl.isNegative()
        ? Long.MAX_VALUE : ticker.read() + ttl.toNanos();
    synchronized (lock) {
      boolean created = false;
      boolean changed = false;
      for (Node node : service.nodes()) {
        String key = key(service.name(), service.version(), node);
        ServiceIndex.Change change = index.put(key, service.withNodes(List.of(node)));
        created |= change == ServiceIndex.Change.CREATED;
        changed |= change == ServiceIndex.Change.UPDATED;
        if (expiresAt == Long.MAX_VALUE) {
          expiries.remove(key);
        } else {
          expiries.put(key, expiresAt);
        }
      }
      if (expiresAt < nextExpiry) {
        nextExpiry = expiresAt;
      }
      index.publish();
      if (created || changed) {
        emit(new RegistryEvent(created ? RegistryEvent.Action.CREATE : RegistryEvent.Action.UPDATE, service));
      }
    }
  }

  private void doDeregister(Service service) {
    ServiceCodec.validate(service);
    synchronized (lock) {
      Service described = null;
      List<Node> removed = new ArrayList<>();
      for (Node node : service.nodes()) {
        String key = key(service.name(), service.version(), node);
        Service gone = index.remove(key);
        if (gone != null) {
          expiries.remove(key);
          described = gone;
          removed.add(gone.nodes().get(0));
        }
      }
      if (described == null) {
        return;
      }
      index.publish();
      emit(new RegistryEvent(RegistryEvent.Action.DELETE, described.withNodes(List.copyOf(removed))));
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
      // name and version → what expired of it, described as its entry put last
      Map<String, Service> gone = new LinkedHashMap<>();
      Map<String, List<Node>> goneNodes = new HashMap<>();
      var it = expiries.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<String, Long> e = it.next();
        if (e.getValue() > now) {
          next = Math.min(next, e.getValue());
          continue;
        }
        it.remove();
        Service entry = index.remove(e.getKey());
        if (entry != null) {
          String version = entry.name() + '\u0000' + entry.version();
          gone.put(version, entry);
          goneNodes.computeIfAbsent(version, v -> new ArrayList<>()).add(entry.nodes().get(0));
        }
      }
      nextExpiry = next;
      index.publish();
      gone.forEach((version, entry) ->
          emit(new RegistryEvent(RegistryEvent.Action.DELETE, entry.withNodes(List.copyOf(goneNodes.get(version))))));
    }
  }

  /** Caller holds the lock, which is what keeps emissions serialised. */
  private void emit(RegistryEvent event) {
    events.tryEmitNext(event);
  }
}
