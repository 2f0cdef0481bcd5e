package io.micro.sidecar.core.registry;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where services are registered and found. Implementations never block the caller's thread; the
 * returned publishers do their work on subscription.
 *
 * <p>The registry owns its watchers, timers and connections and releases them in {@link #close()}.
 */
public interface Registry extends AutoCloseable {

  /** Registrations without a TTL never expire. */
  Duration NO_TTL = Duration.ZERO;

  /** The embedded registry: one process, in memory, with TTLs measured on the system ticker. */
  static Registry memory() {
    return memory(Ticker.systemTicker(), Duration.ofSeconds(1));
  }

  /**
   * An in-memory registry whose TTLs are measured on {@code ticker}. Expired nodes vanish from
   * lookups as soon as the ticker passes their deadline; watchers hear of it within {@code sweepEvery}.
   */
  static Registry memory(Ticker ticker, Duration sweepEvery) {
    return new MemoryRegistry(ticker, sweepEvery);
  }

  /**
   * Registers every node of {@code service}; with a positive {@code ttl} each node expires unless
   * registered again within it, and without one it stays until deregistered (in a shared registry,
   * also after this sidecar stops). Registering a known node again replaces it and renews its TTL.
   */
  Mono<Void> register(Service service, Duration ttl);

  /**
   * Registers {@code service} for as long as this sidecar runs (the app it stands beside, its broker
   * topics): in a shared registry on the sidecar's own lease, so it leaves within the register TTL
   * should the sidecar die, and it is removed when the sidecar stops. A registration without a TTL
   * taken for a client ({@link #register}) outlives the sidecar instead, as in the original.
   */
  default Mono<Void> registerOwn(Service service) {
    return register(service, NO_TTL);
  }

  /** Removes the nodes of {@code service} named by id; unknown nodes are ignored. */
  Mono<Void> deregister(Service service);

  /** One Service per version of {@code name}, sorted by version; empty when the name is unknown. */
  default Mono<List<Service>> lookup(String name) {
    return Mono.fromSupplier(() -> find(name));
  }

  /**
   * {@link #lookup} answered at once, from what this registry holds in memory (every registry here
   * keeps its whole view there): what a call's hot path uses.
   */
  List<Service> find(String name);

  /**
   * The nodes of every version of {@code name}, as a call chooses among them: made when they change,
   * not per call, in a registry that keeps a {@link ServiceIndex}; empty when the name is unknown.
   */
  default NodeSet nodes(String name) {
    return NodeSet.of(find(name));
  }

  /** Every service, one entry per version, sorted by name then version. */
  Mono<List<Service>> list();

  /**
   * Changes from now on, as they happen. A subscriber that cannot keep up is sent an overflow error
   * rather than silently missing changes.
   */
  Flux<RegistryEvent> watch();

  /**
   * How old the answers are: the time since the backing store last confirmed them. Zero for a
   * registry that is its own source of truth.
   */
  default Duration cacheAge() {
    return Duration.ZERO;
  }

  /** Releases timers, watchers and connections and completes every watch. Idempotent. */
  @Override
  void close();
}
