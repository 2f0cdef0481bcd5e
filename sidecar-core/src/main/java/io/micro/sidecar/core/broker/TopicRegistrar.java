package io.micro.sidecar.core.broker;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * This sidecar's subscriptions as go-micro's http broker registers them (contract §7.4): while a topic
 * has local subscribers without a queue, or local members of a queue group, one node of service
 * {@code topic:<t>}, version the queue name or {@value DeliveryPlan#BROADCAST}, id {@code <t>-<uuid>},
 * pointing at this sidecar's {@code /_sub}.
 *
 * <p>Registrations have no TTL of their own: the registry keeps them for as long as this process lives
 * (etcd holds them on a lease it keeps alive, so a crashed sidecar's nodes vanish within the lease TTL).
 * The last local subscriber leaving deregisters the node, and {@link #close} deregisters the rest.
 *
 * <p>Threading: {@link #join} and {@link #leave} may be called from any thread and never wait. They
 * count subscribers inside the map's compute for the key, and on a change between none and some queue
 * a reconciliation; reconciliations run one at a time, in order, each comparing what is wanted now
 * with what is registered, so bursts of joins and leaves converge on the last state.
 */
final class TopicRegistrar implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TopicRegistrar.class);
  /** Service names of subscriptions: {@code topic:<t>}, as go-micro's http broker names them. */
  static final String SERVICE_PREFIX = "topic:";
  /** One registry call's bound; the registry keeps retrying a registration it accepted on its own. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

  /** A topic and its version: a queue name or {@link DeliveryPlan#BROADCAST}. */
  record Key(String topic, String version) {

    static Key of(String topic, String queue) {
      return new Key(topic, queue == null || queue.isEmpty() ? DeliveryPlan.BROADCAST : queue);
    }

    boolean broadcast() {
      return DeliveryPlan.BROADCAST.equals(version);
    }
  }

  /** Where peers reach this sidecar. */
  private record Address(String host, int port, boolean secure) {}

  /** One key's subscribers and node. Counted only inside the map's compute for the key; registered is the worker's. */
  private static final class State {
    final String id;
    volatile int subscribers;
    volatile boolean registered;

    State(String id) {
      this.id = id;
    }
  }

  private final Registry registry;
  private final ConcurrentHashMap<Key, State> states = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Key> byId = new ConcurrentHashMap<>();
  /** Keys to reconcile; emitted under {@code this}, since sinks reject concurrent emission. */
  private final Sinks.Many<Key> pending = Sinks.many().unicast().onBackpressureBuffer();
  private final Disposable worker;
  /** Completes when the worker has finished its last reconciliation after {@link #close}. */
  private final Sinks.Empty<Void> drained = Sinks.empty();
  private volatile Address address;
  private volatile boolean closed;

  TopicRegistrar(Registry registry) {
    this.registry = registry;
    this.worker = pending.asFlux().concatMap(this::reconcile)
        .doFinally(signal -> drained.tryEmitEmpty())
        .subscribe();
  }

  /** From now on nodes point at {@code host:port}; registers what is waiting for it. Call once. */
  void listening(String host, int port, boolean secure) {
    address = new Address(host, port, secure);
    states.keySet().forEach(this::schedule);
  }

  /** A local subscriber of {@code topic} (in {@code queue}, or none) joined. */
  void join(String topic, String queue) {
    Key key = Key.of(topic, queue);
    states.compute(key, (k, cur) -> {
      State state = cur == null ? new State(topic + "-" + UUID.randomUUID()) : cur;
      if (cur == null) {
        byId.put(state.id, k);
      }
      state.subscribers++;
      return state;
    });
    schedule(key);
  }

  /** A local subscriber that {@link #join}ed left. */
  void leave(String topic, String queue) {
    Key key = Key.of(topic, queue);
    states.computeIfPresent(key, (k, s) -> {
      s.subscribers--;
      return s;
    });
    schedule(key);
  }

  /** The key a node id of this sidecar stands for, or null if it is not one (any more). */
  Key keyOf(String nodeId) {
    return byId.get(nodeId);
  }

  /** True for this sidecar's nodes: its ids, and anything registered at its own address (a stale node of ours). */
  boolean own(Node node) {
    Address a = address;
    return byId.containsKey(node.id()) || a != null && a.port == node.port() && a.host.equals(node.address());
  }

  private void schedule(Key key) {
    synchronized (this) {
      if (!closed) {
        pending.tryEmitNext(key);
      }
    }
  }

  /** Makes the registry match the key's subscriber count. On the worker, one at a time. */
  private Mono<Void> reconcile(Key key) {
    return Mono.defer(() -> {
      State s = states.get(key);
      Address a = address;
      if (s == null || a == null || closed) {
        return Mono.empty();
      }
      boolean wanted = s.subscribers > 0;
      if (wanted && !s.registered) {
        s.registered = true;
        return registry.registerOwn(service(key, s.id, a))
            .timeout(CALL_TIMEOUT)
            .onErrorResume(e -> {
              log.warn("broker: registering {} node {} failed (the registry retries it): {}",
                  SERVICE_PREFIX + key.topic(), s.id, e.toString());
              return Mono.empty();
            });
      }
      if (!wanted && s.registered) {
        s.registered = false;
        return deregister(key, s, a).doFinally(signal -> forget(key, s));
      }
      if (!wanted) {
        forget(key, s);
      }
      return Mono.empty();
    });
  }

  private Mono<Void> deregister(Key key, State s, Address a) {
    return registry.deregister(service(key, s.id, a))
        .timeout(CALL_TIMEOUT)
        .onErrorResume(e -> {
          log.warn("broker: deregistering {} node {} failed: {}", SERVICE_PREFIX + key.topic(), s.id, e.toString());
          return Mono.empty();
        });
  }

  /** Drops a key whose subscribers are all gone, unless one came back meanwhile. */
  private void forget(Key key, State s) {
    boolean[] removed = {false};
    states.computeIfPresent(key, (k, cur) -> {
      if (cur == s && cur.subscribers <= 0 && !cur.registered) {
        removed[0] = true;
        return null;
      }
      return cur;
    });
    if (removed[0]) {
      byId.remove(s.id);
    }
  }

  private static Service service(Key key, String id, Address a) {
    return new Service(SERVICE_PREFIX + key.topic(), key.version(), null, null,
        List.of(new Node(id, a.host, a.port, Map.of("secure", Boolean.toString(a.secure), "broker", "http"))));
  }

  /**
   * Stops reconciling and deregisters every node still registered; blocks the caller up to about
   * twice {@code timeout} (the reconciliation under way, then the deregistrations).
   */
  void close(Duration timeout) {
    synchronized (this) {
      closed = true;
      pending.tryEmitComplete();
    }
    // The reconciliation under way (a deregistration, say) finishes rather than being cut off
    // half-done; those still queued see the flag and do nothing, and the sweep below covers them.
    try {
      drained.asMono().block(timeout);
    } catch (RuntimeException e) {
      log.warn("broker: a subscription node registration still under way at shutdown was cut: {}", e.toString());
    }
    worker.dispose();
    Address a = address;
    if (a == null) {
      return;
    }
    List<Mono<Void>> calls = new ArrayList<>();
    states.forEach((key, s) -> {
      if (s.registered) {
        s.registered = false;
        calls.add(deregister(key, s, a));
      }
    });
    try {
      Flux.merge(calls).then().block(timeout);
    } catch (RuntimeException e) {
      log.warn("broker: deregistering {} subscription node(s) at shutdown: {}", calls.size(), e.toString());
    }
  }

  @Override
  public void close() {
    close(CALL_TIMEOUT);
  }
}
