package io.micro.sidecar.core.registry.etcd;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.RegistryEvent;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.ServiceCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
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
 * loop; jetcd's callback threads only hand work over to it. Lookups read the Caffeine-held answers
 * from any thread.
 *
 * <p>Failure handling: jetcd resumes a broken watch from the last revision by itself. When etcd says
 * the revision was compacted, or the watch gives up, or nothing (not even a progress notification,
 * which is requested every {@code progressEvery}) has been heard for {@code stallAfter}, the copy is
 * listed again at a fresh revision and a new watch starts after it. Until that succeeds lookups keep
 * answering from the copy, whose age {@link #age()} reports.
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

  /** service name → one Service per version; written on the loop only. */
  private final Cache<String, List<Service>> answers = Caffeine.newBuilder().build();
  /** etcd key → the single-node Service stored there; loop only. */
  private final Map<String, Service> byKey = new HashMap<>();
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
    List<Service> found = answers.getIfPresent(name);
    return found == null ? List.of() : found;
  }

  List<Service> list() {
    List<Service> all = new ArrayList<>();
    new TreeMap<>(answers.asMap()).values().forEach(all::addAll);
    return all;
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
    Set<String> touched = new HashSet<>();
    for (Map.Entry<String, Service> old : new ArrayList<>(byKey.entrySet())) {
      if (!fresh.containsKey(old.getKey())) {
        byKey.remove(old.getKey());
        touched.add(old.getValue().name());
        emit(RegistryEvent.Action.DELETE, old.getValue());
      }
    }
    fresh.forEach((key, s) -> {
      Service before = byKey.put(key, s);
      if (!s.equals(before)) {
        touched.add(s.name());
        emit(before == null ? RegistryEvent.Action.CREATE : RegistryEvent.Action.UPDATE, s);
      }
    });
    rebuild(touched);
    boolean wasListed = listed;
    listed = true;
    contact(revision);
    if (!reachable) {
      reachable = true;
      log.info("etcd reachable again: registry re-listed at revision {} ({} nodes)", revision, byKey.size());
    } else if (!wasListed) {
      log.info("registry listed from etcd at revision {} ({} nodes)", revision, byKey.size());
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
    Set<String> touched = new HashSet<>();
    for (WatchEvent e : response.getEvents()) {
      String key = e.getKeyValue().getKey().toString();
      revision = Math.max(revision, e.getKeyValue().getModRevision());
      if (!EtcdRegistry.registryKey(key)) {
        continue;
      }
      if (e.getEventType() == WatchEvent.EventType.PUT) {
        Service s = decode(e.getKeyValue());
        if (s == null) {
          continue;
        }
        Service before = byKey.put(key, s);
        if (!s.equals(before)) {
          touched.add(s.name());
          emit(before == null ? RegistryEvent.Action.CREATE : RegistryEvent.Action.UPDATE, s);
        }
      } else if (e.getEventType() == WatchEvent.EventType.DELETE) {
        Service before = byKey.remove(key);
        if (before != null) {
          touched.add(before.name());
          emit(RegistryEvent.Action.DELETE, before);
        }
      }
    }
    rebuild(touched);
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
    return listed && reachable && !byKey.containsKey(key);
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

  private void rebuild(Set<String> names) {
    rebuildAnswers(names);
    pending.forEach(events::tryEmitNext);
    pending.clear();
  }

  private void rebuildAnswers(Set<String> names) {
    if (names.isEmpty()) {
      return;
    }
    Map<String, Map<String, List<Node>>> nodes = new HashMap<>();
    Map<String, Service> template = new HashMap<>();
    for (Service s : byKey.values()) {
      if (names.contains(s.name())) {
        nodes.computeIfAbsent(s.name(), k -> new LinkedHashMap<>())
            .computeIfAbsent(s.version(), k -> new ArrayList<>()).addAll(s.nodes());
        template.put(s.name() + "\u0000" + s.version(), s);
      }
    }
    for (String name : names) {
      Map<String, List<Node>> versions = nodes.get(name);
      if (versions == null) {
        answers.invalidate(name);
        continue;
      }
      List<Service> answer = new ArrayList<>();
      versions.forEach((version, ns) -> {
        ns.sort(Comparator.comparing(Node::id));
        answer.add(template.get(name + "\u0000" + version).withNodes(List.copyOf(ns)));
      });
      answer.sort(Comparator.comparing(Service::version));
      answers.put(name, List.copyOf(answer));
    }
  }

  /** Queues an event; {@link #rebuild} sends the queue once lookups already show the change. */
  private void emit(RegistryEvent.Action action, Service service) {
    pending.add(new RegistryEvent(action, service));
  }

  private Service decode(KeyValue kv) {
    try {
      Service s = ServiceCodec.decode(kv.getValue().getBytes());
      if (s.name() == null || s.nodes() == null || s.nodes().isEmpty()) {
        throw new InvalidServiceException("no name or no nodes");
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
