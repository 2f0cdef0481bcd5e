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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
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
 * <p>Over 300 lines on purpose: what is left here after the {@link io.micro.sidecar.core.registry.ServiceIndex}
 * took the projection is the list/watch/resync state machine, whose generations, revisions and waiters
 * must change together on the one scheduler.
 */
final class EtcdCache implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EtcdCache.class);
  private static final int WATCH_BUFFER = 1024;

  /**
   * The longest wait between two attempts to reach etcd again: after a long outage the registry is
   * back within about this of etcd (plus gRPC's own reconnection), not tens of seconds later.
   */
  static final Duration RECONNECT_BACKOFF_MAX = Duration.ofSeconds(2);

  private final Client client;
  private final ByteSequence prefix;
  private final String prefixText;
  private final Ticker ticker;
  private final Scheduler loop;
  private final Duration stallAfter;
  private final BiConsumer<Set<String>, Long> onResync;

  /** etcd key → the single-node Service stored there, and the answers; written on the loop only. */
  private final ServiceIndex index = new ServiceIndex();
  private final Sinks.Many<RegistryEvent> events = Sinks.many().multicast().directBestEffort();
  private final List<RevisionWaiter> waiters = new ArrayList<>();
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

  /**
   * @param onResync told, on the loop, the keys present after every successful listing and its
   *                 revision, so that lost registrations can be put back
   */
  EtcdCache(Client client, String prefix, Ticker ticker, Scheduler loop, Duration progressEvery,
            Duration stallAfter, BiConsumer<Set<String>, Long> onResync) {
    this.client = client;
    this.prefixText = prefix;
    this.prefix = bytes(prefix);
    this.ticker = ticker;
    this.loop = loop;
    this.stallAfter = stallAfter;
    this.onResync = onResync;
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
            .doBeforeRetry(r -> loop.schedule(() -> unreachable(r.failure()))))
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
      if (!EtcdRegistry.registryKey(kv.getKey().toString())) {
        continue;
      }
      Service s = decode(kv);
      if (s != null) {
        fresh.put(kv.getKey().toString(), s);
      }
    }
    for (String key : new ArrayList<>(index.keys())) {
      if (!fresh.containsKey(key)) {
        emit(RegistryEvent.Action.DELETE, index.remove(key));
      }
    }
    fresh.forEach(this::put);
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
    onResync.accept(fresh.keySet(), revision);
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
      if (!EtcdRegistry.registryKey(key)) {
        continue;
      }
      if (e.getEventType() == WatchEvent.EventType.PUT) {
        Service s = decode(e.getKeyValue());
        if (s != null) {
          put(key, s);
        }
      } else if (e.getEventType() == WatchEvent.EventType.DELETE) {
        Service before = index.remove(key);
        if (before != null) {
          emit(RegistryEvent.Action.DELETE, before);
        }
      }
    }
    publish();
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
    Duration age = age();
    if (!syncing && age.compareTo(stallAfter) > 0) {
      unreachable(new IllegalStateException("nothing heard from etcd for " + age.toSeconds() + "s"));
      log.warn("registry watch silent for {}s; listing again", age.toSeconds());
      sync();
    }
  }

  /**
   * True when etcd is known to lack {@code key}: the cache has listed, hears from etcd, and holds no
   * such key (someone deleted it). On the loop.
   */
  boolean knownMissing(String key) {
    return listed && reachable && index.get(key) == null;
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

  private Service decode(KeyValue kv) {
    try {
      Service s = ServiceCodec.decode(kv.getValue().getBytes());
      if (s.name() == null || s.nodes() == null || s.nodes().isEmpty()) {
        throw new InvalidServiceException("no name or no nodes");
      }
      if (s.nodes().stream().anyMatch(n -> n == null || n.id() == null)) {
        // written by someone else's tool: answers sort nodes by id
        throw new InvalidServiceException("a node without an id");
      }
      return s;
    } catch (InvalidServiceException e) {
      log.warn("ignoring {}: not a registry entry ({})", kv.getKey(), e.getMessage());
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
