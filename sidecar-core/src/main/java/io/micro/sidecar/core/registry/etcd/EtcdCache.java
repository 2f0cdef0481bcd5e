package io.micro.sidecar.core.registry.etcd;

import com.github.benmanes.caffeine.cache.Ticker;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.micro.sidecar.core.registry.InvalidServiceException;
import io.micro.sidecar.core.registry.NodeSet;
import io.micro.sidecar.core.registry.RegistryEvent;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.ServiceIndex;
import io.micro.sidecar.core.registry.ServiceCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * The local copy of the registry prefix in etcd: listed once, then kept current by a watch from the
 * next revision, so that a lookup is a local read.
 *
 * <p>Threading: every change to the copy, and every event emission, happens on one {@link Scheduler}
 * loop; jetcd's callback threads only hand work over to it. Lookups read the index's published
 * answers (a Caffeine cache) from any thread.
 *
 * <p>Failure handling: jetcd resumes a broken watch from the last revision by itself. When etcd says
 * the revision was compacted, or the watch gives up, or nothing (not even a progress notification,
 * which is requested every {@code progressEvery}) has been heard for {@code stallAfter}, the copy is
 * listed again at a fresh revision and a new watch starts after it. Until that succeeds lookups keep
 * answering from the copy, whose age {@link #age()} reports.
 *
 * <p>This sidecar's own keys: a delete the watch reports, or a listing that lacks a key, of a key the
 * registrar holds does not drop it from the copy at once. The registrar asks etcd why it is gone and
 * either puts it back (its lease expired while etcd was out of reach: the copy never shows the
 * sidecar's own registration gone for that) or lets it go (someone deleted it on purpose, which the
 * copy then shows, one round trip to etcd later than other sidecars' copies do).
 *
 * <p>Over 300 lines on purpose: what is left here after the {@link io.micro.sidecar.core.registry.ServiceIndex}
 * took the projection is the list/watch/resync state machine, whose generations, revisions and waiters
 * must change together on the one scheduler.
 */
final class EtcdCache implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EtcdCache.class);
  private static final int WATCH_BUFFER = 1024;

  /**
   * The longest wait between two attempts to reach etcd again: after a long outage the registry is
   * back within about this of etcd ({@link ConnectBackoff} cuts gRPC's own wait short), not minutes later.
   */
  static final Duration RECONNECT_BACKOFF_MAX = Duration.ofSeconds(2);

  private final Client client;
  private final ByteSequence prefix;
  private final String prefixText;
  private final Ticker ticker;
  private final Scheduler loop;
  private final Duration stallAfter;
  private final OwnKeys own;
  private final ConnectBackoff backoff;
  /**
   * etcd key → mod revision of what the copy holds for it, or of its delete; loop only. Lets a write
   * etcd confirmed to this sidecar show at once (read-your-writes even while the watch lags), and keeps
   * older news of a key, from a lagging watch or listing, from undoing newer.
   */
  private final Map<String, Long> revisions = new HashMap<>();
  /** Keys etcd lacks that are kept because the registrar holds them, until it decides; loop only. */
  private final Set<String> kept = new HashSet<>();

  /** etcd key → the single-node Service stored there, and the answers; written on the loop only. */
  private final ServiceIndex index = new ServiceIndex();
  private final Sinks.Many<RegistryEvent> events = Sinks.many().multicast().directBestEffort();
  private final List<RevisionWaiter> waiters = new ArrayList<>();
  /** Keys the watch response being applied deleted, told to the registrar after it; loop only. */
  private final List<String> deleted = new ArrayList<>();
  /** Events of the change being applied, sent after the answers are rebuilt; loop only. */
  private final List<RegistryEvent> pending = new ArrayList<>();
  private final Disposable progress;

  private volatile long lastContact;
  private volatile long appliedRevision;
  private volatile boolean listed;
  private boolean reachable = true;
  private boolean syncing;
  private Watch.Watcher watcher;
  private long generation;
  private Disposable pendingSync;
  private volatile boolean closed;

  /** What the copy tells the registrar about this sidecar's own keys, and asks it; all on the loop. */
  interface OwnKeys {
    /** Whether this sidecar holds {@code key}: wants it in etcd. */
    boolean holds(String key);

    /** After every successful listing: the keys present and the listing's revision. */
    void resynced(Set<String> present, long revision);

    /** The watch saw {@code key} deleted. */
    void deleted(String key);
  }

  /**
   * @param own this sidecar's own keys, told of every listing and every watched delete
   * @param backoff reset at every try while etcd is away, so its return is heard within seconds
   */
  EtcdCache(Client client, String prefix, Ticker ticker, Scheduler loop, Duration progressEvery,
            Duration stallAfter, OwnKeys own, ConnectBackoff backoff) {
    this.client = client;
    this.prefixText = prefix;
    this.prefix = bytes(prefix);
    this.ticker = ticker;
    this.loop = loop;
    this.stallAfter = stallAfter;
    this.own = own;
    this.backoff = backoff;
    this.lastContact = ticker.read();
    loop.schedule(this::sync);
    this.progress = loop.schedulePeriodically(this::checkProgress,
        progressEvery.toNanos(), progressEvery.toNanos(), TimeUnit.NANOSECONDS);
  }

  List<Service> lookup(String name) {
    return index.find(name);
  }

  NodeSet nodes(String name) {
    return index.nodes(name);
  }

  List<Service> list() {
    return index.list();
  }

  Flux<RegistryEvent> watch() {
    return events.asFlux().onBackpressureBuffer(WATCH_BUFFER);
  }

  /** How long since etcd last confirmed this copy (a listing, an event or a progress notification). */
  Duration age() {
    return Duration.ofNanos(Math.max(0, ticker.read() - lastContact));
  }

  /** True once the prefix has been listed at least once. */
  boolean listed() {
    return listed;
  }

  /**
   * Completes once the copy has applied {@code revision} (a write's own revision, for
   * read-your-writes), or after {@code atMost} if the watch is behind.
   */
  Mono<Void> awaitRevision(long revision, Duration atMost) {
    if (appliedRevision >= revision) {
      return Mono.empty();
    }
    return Mono.<Void>create(sink -> loop.schedule(() -> {
          if (appliedRevision >= revision) {
            sink.success();
          } else {
            waiters.add(new RevisionWaiter(revision, sink::success));
          }
        }))
        .timeout(atMost, Mono.empty());
  }

  @Override
  /**
   * Stops the watch and completes every watch subscriber, on the registry thread; waits for that up
   * to two seconds (the caller is the shutdown path, never an event loop or a jetcd thread).
   */
  public void close() {
    closed = true;
    progress.dispose();
    Mono.fromRunnable(() -> {
          if (pendingSync != null) {
            pendingSync.dispose();
          }
          if (watcher != null) {
            watcher.close();
            watcher = null;
          }
          waiters.forEach(w -> w.done.run());
          waiters.clear();
          events.tryEmitComplete();
        })
        .subscribeOn(loop)
        .timeout(Duration.ofSeconds(2), Mono.empty())
        .block(Duration.ofSeconds(3));
  }

  // ---- on the loop ----

  /** Lists the prefix and watches from the revision after; retries until it succeeds. */
  private void sync() {
    if (closed || syncing) {
      return;
    }
    syncing = true;
    if (watcher != null) {
      watcher.close();
      watcher = null;
    }
    long gen = ++generation;
    pendingSync = Mono.fromFuture(() -> client.getKVClient().get(prefix, GetOption.builder().isPrefix(true).build()))
        .timeout(Duration.ofSeconds(5))
        .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(RECONNECT_BACKOFF_MAX)
            .doBeforeRetry(r -> {
              backoff.reset();
              loop.schedule(() -> unreachable(r.failure()));
            }))
        .subscribe(listing -> loop.schedule(() -> applyListing(listing, gen)),
            e -> loop.schedule(() -> syncing = false));
  }

  private void applyListing(GetResponse listing, long gen) {
    if (closed || gen != generation) {
      return;
    }
    syncing = false;
    long revision = listing.getHeader().getRevision();
    Map<String, Service> fresh = new HashMap<>();
    for (KeyValue kv : listing.getKvs()) {
      String key = kv.getKey().toString();
      if (!EtcdRegistry.registryKey(key)) {
        continue;
      }
      Service s = decode(key, kv.getValue().getBytes());
      if (s != null) {
        fresh.put(key, s);
        if (!newer(key, revision)) {
          revisions.put(key, kv.getModRevision());
        }
      }
    }
    kept.clear();
    for (String key : new ArrayList<>(index.keys())) {
      if (!fresh.containsKey(key) && !newer(key, revision)) {
        if (own.holds(key)) {
          kept.add(key);
        } else {
          emit(RegistryEvent.Action.DELETE, index.remove(key));
        }
      }
    }
    fresh.forEach((key, s) -> {
      if (!newer(key, revision)) {
        put(key, s);
      }
    });
    revisions.entrySet().removeIf(e -> e.getValue() <= revision && index.get(e.getKey()) == null);
    publish();
    boolean wasListed = listed;
    listed = true;
    contact(revision);
    if (!reachable) {
      reachable = true;
      log.info("etcd reachable again: registry re-listed at revision {} ({} nodes)", revision, index.size());
    } else if (!wasListed) {
      log.info("registry listed from etcd at revision {} ({} nodes)", revision, index.size());
    }
    watcher = client.getWatchClient().watch(prefix,
        WatchOption.builder().isPrefix(true).withRevision(revision + 1).withPrevKV(true)
            .withProgressNotify(true).build(),
        listener(gen));
    own.resynced(fresh.keySet(), revision);
  }

  private Watch.Listener listener(long gen) {
    return new Watch.Listener() {
      @Override
      public void onNext(WatchResponse response) {
        loop.schedule(() -> applyWatch(response, gen));
      }

      @Override
      public void onError(Throwable error) {
        loop.schedule(() -> watchFailed(error, gen));
      }

      @Override
      public void onCompleted() {
        loop.schedule(() -> {
          if (!closed && gen == generation) {
            log.warn("etcd watch ended; listing the registry again");
            sync();
          }
        });
      }
    };
  }

  private void applyWatch(WatchResponse response, long gen) {
    if (closed || gen != generation) {
      return;
    }
    long revision = response.getHeader().getRevision();
    for (WatchEvent e : response.getEvents()) {
      String key = e.getKeyValue().getKey().toString();
      revision = Math.max(revision, e.getKeyValue().getModRevision());
      if (!EtcdRegistry.registryKey(key) || newer(key, e.getKeyValue().getModRevision() - 1)) {
        continue;
      }
      revisions.put(key, e.getKeyValue().getModRevision());
      kept.remove(key);
      if (e.getEventType() == WatchEvent.EventType.PUT) {
        Service s = decode(key, e.getKeyValue().getValue().getBytes());
        if (s != null) {
          put(key, s);
        }
      } else if (e.getEventType() == WatchEvent.EventType.DELETE) {
        if (own.holds(key) && index.get(key) != null) {
          kept.add(key);
        } else {
          Service before = index.remove(key);
          if (before != null) {
            emit(RegistryEvent.Action.DELETE, before);
          }
        }
        deleted.add(key);
      }
    }
    publish();
    deleted.forEach(own::deleted);
    deleted.clear();
    if (!reachable) {
      reachable = true;
      log.info("etcd reachable again: watch resumed at revision {}", revision);
    }
    contact(revision);
  }

  private void watchFailed(Throwable error, long gen) {
    if (closed || gen != generation) {
      return;
    }
    if (error instanceof CompactedException compacted) {
      log.warn("etcd compacted the registry watch's revision (now {}); listing again", compacted.getCompactedRevision());
      sync();
      return;
    }
    // jetcd resumes the watch from its last revision by itself; meanwhile the copy ages.
    unreachable(error);
  }

  private void checkProgress() {
    if (closed) {
      return;
    }
    if (watcher != null) {
      watcher.requestProgress();
    }
    // a delete's revision matters only until the watch has passed it
    long applied = appliedRevision;
    revisions.entrySet().removeIf(e -> e.getValue() <= applied && index.get(e.getKey()) == null);
    if (!reachable) {
      backoff.reset();
    }
    Duration age = age();
    if (!syncing && age.compareTo(stallAfter) > 0) {
      unreachable(new IllegalStateException("nothing heard from etcd for " + age.toSeconds() + "s"));
      log.warn("registry watch silent for {}s; listing again", age.toSeconds());
      sync();
    }
  }

  /** Whether what the copy knows of {@code key} is newer than {@code revision}. On the loop. */
  private boolean newer(String key, long revision) {
    Long known = revisions.get(key);
    return known != null && known > revision;
  }

  /** etcd confirmed {@code value} written to {@code key} at {@code revision}: lookups show it now. On the loop. */
  void wrote(String key, byte[] value, long revision) {
    // at or below the applied revision the copy has it already, or what came after it
    Service s = revision <= appliedRevision || newer(key, revision - 1) ? null : decode(key, value);
    if (s != null) {
      revisions.put(key, revision);
      kept.remove(key);
      put(key, s);
      publish();
    }
  }

  /** etcd confirmed {@code key} deleted at {@code revision}: lookups stop showing it now. On the loop. */
  void erased(String key, long revision) {
    if (revision > appliedRevision && !newer(key, revision - 1)) {
      revisions.put(key, revision);
      kept.remove(key);
      Service before = index.remove(key);
      if (before != null) {
        emit(RegistryEvent.Action.DELETE, before);
      }
      publish();
    }
  }

  /**
   * The registrar no longer holds {@code key}: if the copy showed it only because it was held, it goes
   * now. On the loop.
   */
  void unheld(String key) {
    if (kept.remove(key)) {
      emit(RegistryEvent.Action.DELETE, index.remove(key));
      publish();
    }
  }

  /**
   * True when etcd is known to lack {@code key}: the cache has listed, hears from etcd, and holds no
   * such key (someone deleted it). On the loop.
   */
  boolean knownMissing(String key) {
    return listed && reachable && (index.get(key) == null || kept.contains(key));
  }

  private void unreachable(Throwable cause) {
    if (reachable) {
      reachable = false;
      log.warn("etcd unreachable ({}); answering lookups from the cached registry, {}s old",
          cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(), age().toSeconds());
    }
  }

  private void contact(long revision) {
    lastContact = ticker.read();
    if (revision > appliedRevision) {
      appliedRevision = revision;
      waiters.removeIf(w -> {
        if (w.revision <= revision) {
          w.done.run();
          return true;
        }
        return false;
      });
    }
  }

  /** Puts what {@code key} holds now, queueing the event when that changed anything. */
  private void put(String key, Service s) {
    ServiceIndex.Change change = index.put(key, s);
    if (change != ServiceIndex.Change.NONE) {
      emit(change == ServiceIndex.Change.CREATED ? RegistryEvent.Action.CREATE : RegistryEvent.Action.UPDATE, s);
    }
  }

  /** Makes the changes lookups' answers, then sends their events. */
  private void publish() {
    index.publish();
    pending.forEach(events::tryEmitNext);
    pending.clear();
  }

  /** Queues an event; {@link #publish} sends the queue once lookups already show the change. */
  private void emit(RegistryEvent.Action action, Service service) {
    pending.add(new RegistryEvent(action, service));
  }

  private Service decode(String key, byte[] value) {
    try {
      Service s = ServiceCodec.decode(value);
      if (s.name() == null || s.nodes() == null || s.nodes().isEmpty()) {
        throw new InvalidServiceException("no name or no nodes");
      }
      if (s.nodes().stream().anyMatch(n -> n == null || n.id() == null)) {
        // written by someone else's tool: answers sort nodes by id
        throw new InvalidServiceException("a node without an id");
      }
      return s;
    } catch (InvalidServiceException e) {
      log.warn("ignoring {}: not a registry entry ({})", key, e.getMessage());
      return null;
    }
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  String prefix() {
    return prefixText;
  }

  private record RevisionWaiter(long revision, Runnable done) {
    RevisionWaiter {
      Objects.requireNonNull(done);
    }
  }
}
