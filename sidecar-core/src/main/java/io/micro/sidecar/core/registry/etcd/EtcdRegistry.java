package io.micro.sidecar.core.registry.etcd;

import com.github.benmanes.caffeine.cache.Ticker;
import io.etcd.jetcd.Client;
import io.micro.sidecar.core.registry.NodeSet;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.RegistryEvent;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.ServiceCodec;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A registry shared through etcd in go-micro's layout (contract §11): key
 * {@code /micro/registry/<service>/<node id>}, value the Service JSON holding that one node, so Go
 * services and other sidecars on the same etcd see each other.
 *
 * <p>Lookups are local reads of a watched copy ({@link EtcdCache}); registrations ride on leases kept
 * alive by one stream ({@link EtcdRegistrar}). Starting never waits for etcd: the copy fills and the
 * registrations are written when etcd answers. The registry owns its jetcd client and its
 * single-threaded scheduler and releases both in {@link #close()}.
 */
public final class EtcdRegistry implements Registry {

  /** Where go-micro's etcd registry keeps services. */
  /** The sidecar era's layout (go-plugins registry/etcdv3): the default prefix written. */
  public static final String SIDECAR_ERA = "/micro-registry/";
  /** go-micro 1.11 and later: nodes carry {@code address} = {@code host:port} and no port. */
  public static final String GO_MICRO = "/micro/registry/";
  /** Both layouts live under it: lookups and watches read both (contract §11). */
  private static final String WATCHED = "/micro";

  /** A key of either layout. */
  static boolean registryKey(String key) {
    return key.startsWith(SIDECAR_ERA) || key.startsWith(GO_MICRO);
  }

  private static final Duration READ_YOUR_WRITE_WAIT = Duration.ofSeconds(2);

  private final Client client;
  private final Scheduler loop;
  private final EtcdCache cache;
  private final EtcdRegistrar registrar;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EtcdRegistry(Builder b) {
    this.client = Client.builder()
        .endpoints(b.endpoints.stream().map(EtcdRegistry::uri).toArray(URI[]::new))
        .connectTimeout(Duration.ofSeconds(3))
        .keepaliveTime(Duration.ofSeconds(10))
        .keepaliveTimeout(Duration.ofSeconds(5))
        .waitForReady(false)
        .build();
    this.loop = Schedulers.newSingle("etcd-registry", true);
    ConnectBackoff backoff = ConnectBackoff.of(client);
    this.registrar = new EtcdRegistrar(client, b.prefix, b.ticker, loop, b.defaultTtl,
        new CopyOfCache(), b.retriedDeletes, backoff);
    this.cache = new EtcdCache(client, WATCHED, b.ticker, loop, b.progressEvery, b.stallAfter, registrar, backoff);
  }

  /** The cache, for the registrar, which is made before it. */
  private final class CopyOfCache implements EtcdRegistrar.WatchedCopy {
    @Override
    public boolean knownMissing(String key) {
      return cache.knownMissing(key);
    }

    @Override
    public void unheld(String key) {
      cache.unheld(key);
    }

    @Override
    public void wrote(String key, byte[] value, long revision) {
      cache.wrote(key, value, revision);
    }

    @Override
    public void erased(String key, long revision) {
      cache.erased(key, revision);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code host:port} becomes {@code http://host:port}; a URI with a scheme is kept. */
  static URI uri(String endpoint) {
    String e = endpoint.trim();
    return URI.create(e.contains("://") ? e : "http://" + e);
  }

  @Override
  public Mono<Void> register(Service service, Duration ttl) {
    return Mono.fromRunnable(() -> ServiceCodec.validate(service))
        .then(registrar.register(service, ttl))
        .flatMap(revision -> cache.awaitRevision(revision, READ_YOUR_WRITE_WAIT));
  }

  @Override
  public Mono<Void> registerOwn(Service service) {
    return Mono.fromRunnable(() -> ServiceCodec.validate(service))
        .then(registrar.registerOwn(service))
        .flatMap(revision -> cache.awaitRevision(revision, READ_YOUR_WRITE_WAIT));
  }

  @Override
  public Mono<Void> deregister(Service service) {
    return Mono.fromRunnable(() -> ServiceCodec.validate(service))
        .then(registrar.deregister(service))
        .flatMap(revision -> cache.awaitRevision(revision, READ_YOUR_WRITE_WAIT));
  }

  @Override
  public List<Service> find(String name) {
    return cache.lookup(name);
  }

  @Override
  public NodeSet nodes(String name) {
    return cache.nodes(name);
  }

  @Override
  public Mono<List<Service>> list() {
    return Mono.fromSupplier(cache::list);
  }

  @Override
  public Flux<RegistryEvent> watch() {
    return cache.watch();
  }

  /** How long since etcd last confirmed the local copy; grows while etcd is unreachable. */
  @Override
  public Duration cacheAge() {
    return cache.age();
  }

  /** True once the registry has been listed from etcd at least once. */
  public boolean ready() {
    return cache.listed();
  }

  /** Revokes this sidecar's leases (deleting its keys), stops the watch and closes the client. Blocks up to ~6 s. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      registrar.close();
    } finally {
      cache.close();
      client.close();
      loop.dispose();
    }
  }

  /** Settings of an {@link EtcdRegistry}; every default is written here. */
  public static final class Builder {
    private List<String> endpoints = List.of("127.0.0.1:2379");
    private Ticker ticker = Ticker.systemTicker();
    private Duration defaultTtl = Duration.ofSeconds(15);
    private Duration progressEvery = Duration.ofSeconds(5);
    private Duration stallAfter = Duration.ofSeconds(15);
    private String prefix = SIDECAR_ERA;
    private int retriedDeletes = EtcdRegistrar.RETRIED_DELETES;

    private Builder() {}

    /** How many failed deregistrations are retried in the background at once; for tests. */
    Builder retriedDeletes(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("retriedDeletes " + max + " (expected: at least 1)");
      }
      this.retriedDeletes = max;
      return this;
    }

    /**
     * Where registrations are written ({@code --registry_prefix}): {@link #SIDECAR_ERA} (the default) or
     * {@link #GO_MICRO}, each in its layout's node form. Both are read whatever this says.
     */
    public Builder prefix(String prefix) {
      if (!prefix.equals(SIDECAR_ERA) && !prefix.equals(GO_MICRO)) {
        throw new IllegalArgumentException("'" + prefix + "' (expected: " + SIDECAR_ERA + " or " + GO_MICRO + ")");
      }
      this.prefix = prefix;
      return this;
    }

    /** etcd endpoints as {@code host:port} or URIs; default {@code 127.0.0.1:2379}. */
    public Builder endpoints(List<String> endpoints) {
      if (!endpoints.isEmpty()) {
        this.endpoints = List.copyOf(endpoints);
      }
      return this;
    }

    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker);
      return this;
    }

    /** Lease TTL of registrations made without one (default 15 s): how fast a crashed sidecar's nodes vanish. */
    public Builder defaultTtl(Duration ttl) {
      this.defaultTtl = ttl;
      return this;
    }

    /** How often the watch asks etcd for a progress notification (default 5 s). */
    public Builder progressEvery(Duration every) {
      this.progressEvery = every;
      return this;
    }

    /** Silence after which the watch is deemed stalled and the registry re-listed (default 15 s). */
    public Builder stallAfter(Duration after) {
      this.stallAfter = after;
      return this;
    }

    public EtcdRegistry build() {
      return new EtcdRegistry(this);
    }
  }
}
