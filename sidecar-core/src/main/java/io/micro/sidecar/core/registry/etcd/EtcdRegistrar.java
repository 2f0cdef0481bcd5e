package io.micro.sidecar.core.registry.etcd;

import com.github.benmanes.caffeine.cache.Ticker;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.ServiceCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * This sidecar's own registrations in etcd: one key per node, attached to a lease. The new nodes of
 * one registration share one lease and are written together, all or none.
 *
 * <p>Leases are kept alive by jetcd's single keep-alive stream (one stream for all leases, a message
 * per lease every third of its TTL), never by a call per lease. A registration without a TTL lives
 * as long as the sidecar does, on a lease of {@code defaultTtl}, so a crashed sidecar's nodes vanish
 * within it. A registration with a TTL is a heartbeat contract with the client: its lease has that
 * TTL, it is kept alive only while the client re-registers within the TTL, and when the client stops
 * the key is deleted at the deadline. A re-registration that changes nothing costs no etcd write.
 *
 * <p>A key can vanish two ways, and they are told apart by its lease. When the lease is gone (etcd
 * expired it while this sidecar could not reach it, or someone revoked it) the key went with it, and
 * it is put back on a fresh lease, retrying with backoff until etcd answers. When the lease is alive
 * and the key is not there (the watch saw it deleted, or a re-listing lacks it), someone deleted it
 * on purpose, and that is respected: the registration is no longer held (only its owner's next
 * register call writes it again). When only the keep-alive stream lost touch (etcd restarted, or was
 * away longer than the TTL without expiring the lease), keep-alives go out again at once and the lease
 * and key are checked before anything is rewritten, so the key never leaves etcd for it: a restarted
 * etcd gives each lease one fresh TTL to be renewed in. A deregistration etcd did not confirm keeps being
 * retried in the background until it lands or the key is registered again, so a deregistration made
 * during an outage leaves no ghost; at most {@link #RETRIED_DELETES} of them at once (any client may
 * deregister any key, so the retries are bounded like everything else a client can cause; the caller
 * was told of the failure either way). Shutdown revokes every lease, which deletes the keys.
 *
 * <p>Threading: state is touched only on the shared single-threaded registry scheduler; jetcd callbacks hop onto it.
 *
 * <p>Over 300 lines on purpose: leases, the keys on them and their re-assertion are one state machine
 * (a key's lease is counted, renewed, lost and replaced together with its siblings), and keeping it in
 * one class keeps every transition on the one scheduler in view.
 */
final class EtcdRegistrar implements EtcdCache.OwnKeys, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EtcdRegistrar.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  /** Deregistrations retried in the background at once, each a key and its retry (about 1 KiB). */
  static final int RETRIED_DELETES = 1024;
  /** Puts per transaction: etcd's default {@code --max-txn-ops} is 128. */
  static final int TXN_OPS = 128;
  /**
   * One attempt's bound. A write that a dying leader swallowed only fails after etcd's own request
   * timeout (about 7 s); trying again sooner reaches the new leader. Puts of the same key, value and
   * lease are idempotent, and a lease granted twice expires on its own.
   */
  private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(2);
  /** In place of the work under way for a registration being replaced: nothing more is started for it. */
  private static final Disposable REPLACED = Disposables.disposed();

  private final Client client;
  private final String prefix;
  private final Ticker ticker;
  private final Scheduler loop;
  private final Duration defaultTtl;
  /** etcd key → registration; loop only. */
  private final Map<String, Own> own = new HashMap<>();
  /**
   * lease → its keep-alive and how many of our keys ride on it; loop only. One registration's nodes
   * share one lease, and a lease has one keep-alive whatever rides on it: jetcd keeps one entry per
   * lease id, and closing any handle on it once its observers are gone drops whichever entry is there.
   */
  private final Map<Long, Held> leases = new HashMap<>();
  /** etcd key → the retried delete of a deregistration etcd has not confirmed yet; loop only. */
  private final Map<String, Disposable> deleting = new HashMap<>();
  /**
   * etcd key → the end of the last write without a lease ({@link #putForever}) or delete ({@link #remove})
   * of it under way: the next write of that key, with a lease or without, waits for it. Loop only.
   */
  private final Map<String, Mono<Void>> lastWrites = new HashMap<>();
  private final int retriedDeletes;
  private final ConnectBackoff backoff;
  /** Failed deregistrations not retried for want of room since the last one that was; loop only. */
  private int notRetried;
  private final Disposable sweeper;
  private boolean closed;

  private final WatchedCopy copy;

  /** What the registrar asks of, and tells, the watched copy of the registry; all on the loop. */
  interface WatchedCopy {
    /** Whether the copy knows etcd to lack {@code key} (someone deleted it). */
    boolean knownMissing(String key);

    /** {@code key} is no longer held: the copy stops showing it if it kept it only because it was held. */
    void unheld(String key);

    /** etcd confirmed {@code value} written to {@code key} at {@code revision}: lookups show it now (read-your-writes). */
    void wrote(String key, byte[] value, long revision);

    /** etcd confirmed {@code key} deleted at {@code revision}: lookups stop showing it now. */
    void erased(String key, long revision);
  }

  /**
   * @param retriedDeletes at most this many failed deregistrations are retried at once ({@link #RETRIED_DELETES})
   * @param backoff reset at every try while etcd is away
   */
  EtcdRegistrar(Client client, String prefix, Ticker ticker, Scheduler loop, Duration defaultTtl, WatchedCopy copy,
                int retriedDeletes, ConnectBackoff backoff) {
    this.retriedDeletes = retriedDeletes;
    this.backoff = backoff;
    this.copy = copy;
    this.client = client;
    this.prefix = prefix;
    this.ticker = ticker;
    this.loop = loop;
    this.defaultTtl = defaultTtl;
    this.sweeper = loop.schedulePeriodically(this::expireDue, 250, 250, TimeUnit.MILLISECONDS);
  }

  /**
   * One node's value in this prefix's layout: under go-micro's current prefix a node's port goes into
   * its address ({@code host:port}), as go-micro 1.11 and later write and read it.
   */
  private byte[] encode(Service service, Node node) {
    Node written = prefix.equals(EtcdRegistry.GO_MICRO) && node.port() > 0
        ? new Node(node.id(), new HostPort(node.address(), node.port()).toString(), 0,
            node.metadata())
        : node;
    return ServiceCodec.encode(service.withNodes(List.of(written)));
  }

  /** go-micro's key rule: a {@code /} inside a service name or node id becomes {@code -}; the value keeps the real name. */
  static String key(String prefix, String service, String nodeId) {
    return prefix + service.replace('/', '-') + "/" + nodeId.replace('/', '-');
  }

  /**
   * Registers each node of {@code service}; completes with the etcd revision of the last write once
   * every node is stored (0 when nothing needed writing), or fails if etcd does not confirm in time.
   * Either way the registration is kept and re-asserted until deregistered.
   */
  Mono<Long> register(Service service, Duration ttl) {
    if (ttl == null || ttl.isZero()) {
      return onWorker(() -> putForever(service));
    }
    return registerLeased(service, ttl);
  }

  /** A registration of this sidecar's own (its app, its topics): on a lease of {@code defaultTtl}, kept alive while it runs. */
  Mono<Long> registerOwn(Service service) {
    return registerLeased(service, Duration.ZERO);
  }

  /**
   * Without a TTL: the keys are written with no lease and not tracked, so they stay until deregistered,
   * across restarts of this sidecar, as the original wrote them. A key this sidecar held on a lease
   * before is taken off it.
   */
  private Mono<Long> putForever(Service service) {
    if (closed) {
      return Mono.error(new IllegalStateException("registry closed"));
    }
    List<Own> writes = new ArrayList<>(service.nodes().size());
    for (Node node : service.nodes()) {
      String key = key(prefix, service.name(), node.id());
      stopDeleting(key);
      Own old = own.remove(key);
      if (old != null) {
        old.stop();
        detach(old);
        copy.unheld(key);
      }
      writes.add(new Own(key, encode(service, node), Duration.ZERO, Long.MAX_VALUE));
    }
    // After the writes of these keys still under way: etcd may apply two requests in flight in either
    // order, and an update sent right after another must not be overtaken by it.
    List<Mono<Void>> before = new ArrayList<>();
    Runnable end = writeInOrder(writes.stream().map(o -> o.key).toList(), before);
    // Written on its own subscription: a caller that gives up only marks the registration abandoned, so
    // the batch in flight lands first and then everything written is deleted again (all or none).
    List<Own> written = new ArrayList<>();
    AtomicBoolean abandoned = new AtomicBoolean();
    Sinks.One<Long> result = Sinks.one();
    Mono.when(before).thenMany(Flux.fromIterable(writes).buffer(TXN_OPS))
        .concatMap(batch -> abandoned.get() ? Mono.<Long>empty()
            : putAll(batch, PutOption.DEFAULT).publishOn(loop).doOnNext(r -> {
              written.addAll(batch);
              batch.forEach(o -> copy.wrote(o.key, o.value, r));
            }))
        .reduce(0L, Math::max)
        .subscribe(revision -> {
          if (abandoned.get()) {
            deleteAll(service, written, end);
          } else {
            result.tryEmitValue(revision);
            end.run();
          }
        }, e -> {
          deleteAll(service, written, end);
          result.tryEmitError(e);
        });
    return result.asMono().doOnCancel(() -> abandoned.set(true));
  }

  /**
   * Records a write without a lease, or a delete, of {@code keys} as under way until the returned action
   * runs (from any thread), and adds to {@code before} the ends of those already under way for them,
   * which it is to wait for. On the loop.
   */
  private Runnable writeInOrder(List<String> keys, List<Mono<Void>> before) {
    Sinks.Empty<Void> ended = Sinks.empty();
    Mono<Void> tail = ended.asMono();
    for (String key : keys) {
      Mono<Void> t = lastWrites.put(key, tail);
      if (t != null && !before.contains(t)) {
        before.add(t);
      }
    }
    return () -> {
      try {
        loop.schedule(() -> {
          keys.forEach(key -> lastWrites.remove(key, tail));
          ended.tryEmitEmpty();
        });
      } catch (RejectedExecutionException e) {
        // closed: nothing is written any more, and whatever waits is let go
        ended.tryEmitEmpty();
      }
    };
  }

  /** The ends of the writes without a lease, and deletes, of {@code keys} under way. On the loop. */
  private Mono<Void> writesUnderWay(Stream<String> keys) {
    return Mono.when(keys.map(lastWrites::get).filter(Objects::nonNull).distinct().toList());
  }

  /** Writes one batch (at most {@link #TXN_OPS} keys) in one transaction; completes with its revision. */
  private Mono<Long> putAll(List<Own> batch, PutOption option) {
    return txn(batch.stream().map(o -> Op.put(EtcdCache.bytes(o.key), ByteSequence.from(o.value), option)))
        .map(r -> r.getHeader().getRevision());
  }

  private Mono<TxnResponse> txn(Stream<Op> ops) {
    Op[] all = ops.toArray(Op[]::new);
    return call(() -> client.getKVClient().txn().Then(all).commit());
  }

  /**
   * Deletes keys written for a registration that did not complete, in transactions of {@link #TXN_OPS};
   * runs {@code end} once etcd answered or the attempts ran out.
   */
  private void deleteAll(Service service, List<Own> written, Runnable end) {
    Flux.fromIterable(written).buffer(TXN_OPS).concatMap(batch -> txn(batch.stream()
            .map(o -> Op.delete(EtcdCache.bytes(o.key), DeleteOption.DEFAULT))))
        .subscribe(r -> { }, e -> {
          log.warn("removing a registration of {} that did not complete failed: {}", service.name(), e.toString());
          end.run();
        }, end);
  }

  private Mono<Long> registerLeased(Service service, Duration ttl) {
    // after a write without a lease or a delete of these nodes still under way, which could land last
    return onWorker(() -> writesUnderWay(service.nodes().stream().map(n -> key(prefix, service.name(), n.id())))
        .then(Mono.defer(() -> leased(service, ttl))));
  }

  private Mono<Long> leased(Service service, Duration ttl) {
    List<Node> fresh = new ArrayList<>();
    List<Node> known = new ArrayList<>();
    for (Node node : service.nodes()) {
      (renewable(key(prefix, service.name(), node.id()), leaseTtl(ttl)) ? known : fresh).add(node);
    }
    Flux<Long> renewed = Flux.fromIterable(known).concatMap(node -> upsert(service, node, ttl));
    Mono<Long> added = fresh.size() > 1 ? establishAll(service, fresh, ttl)
        : Flux.fromIterable(fresh).concatMap(node -> upsert(service, node, ttl)).reduce(0L, Math::max);
    return Flux.concat(renewed, added).reduce(0L, Math::max);
  }

  private Duration leaseTtl(Duration ttl) {
    return ttl != null && !ttl.isZero() ? ttl : defaultTtl;
  }

  /** An owned key on a live lease of that TTL: registering it again renews it in place. On the loop. */
  private boolean renewable(String key, Duration leaseTtl) {
    Own o = own.get(key);
    return o != null && o.ttl.equals(leaseTtl) && o.lease != 0 && o.pending == null;
  }

  /**
   * The new nodes of one registration, all or none: one lease, the keys written in transactions of
   * {@link #TXN_OPS} (etcd refuses larger ones by default). Should the caller give up half-way, the
   * lease is revoked, which deletes what was written. Should etcd fail, every node is kept and
   * re-asserted on its own, as a single registration is.
   */
  private Mono<Long> establishAll(Service service, List<Node> nodes, Duration ttl) {
    Duration leaseTtl = leaseTtl(ttl);
    long deadline = ttl != null && !ttl.isZero() ? ticker.read() + ttl.toNanos() : Long.MAX_VALUE;
    List<Own> group = new ArrayList<>(nodes.size());
    List<Mono<Void>> before = new ArrayList<>();
    for (Node node : nodes) {
      String key = key(prefix, service.name(), node.id());
      stopDeleting(key);
      Own old = own.get(key);
      if (old != null) {
        before.add(putEnded(old));
        old.stop();
        // off its lease now, and left alone (no check, no re-assertion) until this registration replaces it
        detach(old);
        old.pending = REPLACED;
      }
      group.add(new Own(key, encode(service, node), leaseTtl, deadline));
    }
    long seconds = Math.max(1, (leaseTtl.toMillis() + 999) / 1000);
    long[] lease = {0};
    boolean[] done = {false};
    // after the puts of the registrations it replaces, which would otherwise land on their old leases last
    return Mono.when(before).then(call(() -> client.getLeaseClient().grant(seconds)))
        .publishOn(loop)
        .flatMapMany(granted -> {
          lease[0] = granted.getID();
          PutOption onLease = PutOption.builder().withLeaseId(granted.getID()).build();
          return Flux.fromIterable(group).buffer(TXN_OPS).concatMap(batch -> putAll(batch, onLease));
        })
        .reduce(0L, Math::max)
        .publishOn(loop)
        .doOnNext(revision -> {
          done[0] = true;
          if (closed) {
            revokeLater(lease[0]);
            return;
          }
          for (Own o : group) {
            replace(o);
            o.revision = revision;
            o.writtenOn = lease[0];
            attach(o, lease[0]);
          }
          log.info("registered {} nodes of {} on lease {}", group.size(), service.name(), Long.toHexString(lease[0]));
        })
        .doOnError(e -> {
          // etcd failed: keep the registration, as for a single node, and put each back on its own
          log.warn("registering {} nodes of {} failed ({}); each is registered again on its own", group.size(),
              service.name(), e.toString());
          revokeLater(lease[0]);
          for (Own o : group) {
            if (!closed) {
              replace(o);
              reassert(o);
            }
          }
        })
        .doOnCancel(() -> loop.schedule(() -> {
          if (!done[0]) {
            // the caller gave up: none of it stays
            revokeLater(lease[0]);
          }
        }));
  }

  /** {@code o} is now the registration of its key; whatever was is stopped and lets go of its lease. On the loop. */
  private void replace(Own o) {
    Own before = own.put(o.key, o);
    if (before != null && before != o) {
      before.stop();
      detach(before);
    }
  }

  /** Deletes the keys of the nodes named; completes with the revision of the last delete. */
  Mono<Long> deregister(Service service) {
    return onWorker(() -> Flux.fromIterable(service.nodes())
        .concatMapDelayError(node -> remove(key(prefix, service.name(), node.id())))
        .reduce(0L, Math::max));
  }

  /**
   * After a listing at {@code revision}: finds out why any of our keys is missing, and puts back those
   * etcd lost with their lease. A key written after that revision, or still being written, is not
   * missing. On the loop.
   */
  @Override
  public void resynced(Set<String> present, long revision) {
    for (Own o : new ArrayList<>(own.values())) {
      if (!present.contains(o.key) && settled(o) && o.revision <= revision) {
        repair(o, "is missing from etcd");
      }
    }
  }

  /** The watch saw one of our keys deleted: by its lease's expiry, or by someone on purpose. On the loop. */
  @Override
  public void deleted(String key) {
    Own o = own.get(key);
    if (o != null && settled(o)) {
      repair(o, "was deleted");
    }
  }

  /**
   * Written once, and nothing under way for it (no check or re-assertion, no put in flight): what etcd
   * shows of it can be judged now. Whatever is under way looks again when it ends. On the loop.
   */
  private static boolean settled(Own o) {
    return o.pending == null && o.revision != 0 && o.writing == 0;
  }

  /** Retries with backoff (at most {@link EtcdCache#RECONNECT_BACKOFF_MAX} apart) for as long as etcd is away. */
  private Retry untilEtcdAnswers() {
    return Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(EtcdCache.RECONNECT_BACKOFF_MAX)
        .scheduler(loop).doBeforeRetry(r -> backoff.reset());
  }

  /** Whether this sidecar holds {@code key}: wants it in etcd and puts it back should its lease be lost. On the loop. */
  @Override
  public boolean holds(String key) {
    return own.containsKey(key);
  }

  /** Revokes every lease (deleting the keys) and stops keeping them alive. Blocks the caller up to the timeout. */
  @Override
  public void close() {
    List<Long> revoked = Mono.fromCallable(() -> {
          closed = true;
          sweeper.dispose();
          deleting.values().forEach(Disposable::dispose);
          deleting.clear();
          own.values().forEach(Own::stop);
          own.clear();
          leases.values().forEach(held -> held.keepAlive.close());
          List<Long> ids = new ArrayList<>(leases.keySet());
          leases.clear();
          return ids;
        })
        .subscribeOn(loop)
        .block(CALL_TIMEOUT);
    if (revoked != null && !revoked.isEmpty()) {
      Flux.fromIterable(revoked)
          .flatMap(id -> Mono.fromFuture(() -> client.getLeaseClient().revoke(id)).timeout(CALL_TIMEOUT)
              .onErrorResume(e -> Mono.empty()))
          .then()
          .block(CALL_TIMEOUT.plusSeconds(1));
    }
  }

  // ---- on the loop ----

  private Mono<Long> upsert(Service service, Node node, Duration ttl) {
    if (closed) {
      return Mono.error(new IllegalStateException("registry closed"));
    }
    String key = key(prefix, service.name(), node.id());
    stopDeleting(key);
    byte[] value = encode(service, node);
    boolean heartbeat = ttl != null && !ttl.isZero();
    Duration leaseTtl = heartbeat ? ttl : defaultTtl;
    long deadline = heartbeat ? ticker.read() + ttl.toNanos() : Long.MAX_VALUE;
    Own o = own.get(key);
    if (o != null && o.ttl.equals(leaseTtl) && o.lease != 0 && o.pending == null) {
      o.deadline = deadline;
      if (Arrays.equals(o.value, value) && !copy.knownMissing(key)) {
        // a heartbeat that changes nothing writes nothing; one for a key someone deleted writes it back
        return Mono.just(0L);
      }
      o.value = value;
      return detached(put(o, o.lease));
    }
    Mono<Void> before = Mono.empty();
    if (o != null) {
      // its lease is let go once its put in flight, if any, is answered: revoked under it, the put would fail
      Own old = o;
      old.stop();
      before = putEnded(old).then(Mono.fromRunnable(() -> detach(old)));
    }
    Own fresh = new Own(key, value, leaseTtl, deadline);
    own.put(key, fresh);
    // On its own subscription: a caller that gives up does not leave the registration half made (held,
    // but on no lease and never retried); it is kept and re-asserted like one etcd refused. After the
    // put of the registration it replaces, which would otherwise land on the old lease last and go with it.
    return detached(before.then(Mono.defer(() -> establish(fresh))).doOnError(e -> {
      if (own.get(key) == fresh) {
        reassert(fresh);
      }
    }));
  }

  /**
   * Runs {@code write} on its own subscription and hands back its outcome: a caller that gives up
   * (a client that hangs up) no longer cancels a write half way, which would leave etcd and the
   * registrar's record of it disagreeing with nothing left to mend them.
   */
  private static Mono<Long> detached(Mono<Long> write) {
    Sinks.One<Long> result = Sinks.one();
    write.subscribe(result::tryEmitValue, result::tryEmitError, result::tryEmitEmpty);
    return result.asMono();
  }

  /** Grants a lease, writes the key on it, and starts keeping the lease alive. */
  private Mono<Long> establish(Own o) {
    long seconds = Math.max(1, (o.ttl.toMillis() + 999) / 1000);
    return call(() -> client.getLeaseClient().grant(seconds))
        .publishOn(loop)
        .flatMap(granted -> {
          if (own.get(o.key) != o) {
            revokeLater(granted.getID());
            return Mono.just(0L);
          }
          attach(o, granted.getID());
          return put(o, granted.getID());
        });
  }

  /**
   * Writes {@code o}'s value on {@code lease}; counted in {@code o.writing} until it ends. One put of a
   * key is in flight at a time: etcd serves each request on its own, so of two puts of a key sent
   * together either may be applied last, and a node updated twice in quick succession could keep its
   * older value, which its heartbeats (unchanged) would never write again. A put asked for while one is
   * in flight waits for it, then sends the value current at that time; the ones asked for meanwhile
   * share it. On the loop.
   */
  private Mono<Long> put(Own o, long lease) {
    if (o.writing > 0) {
      return waiting(o).asMono();
    }
    ByteSequence key = EtcdCache.bytes(o.key);
    byte[] value = o.value;
    o.writing++;
    return call(() -> client.getKVClient().put(key, ByteSequence.from(value),
            PutOption.builder().withLeaseId(lease).build()))
        .map(r -> r.getHeader().getRevision())
        .publishOn(loop)
        .doOnCancel(() -> loop.schedule(() -> {
          o.writing--;
          next(o, lease, value, 0, null);
        }))
        .doOnNext(revision -> {
          o.writing--;
          o.revision = Math.max(o.revision, revision);
          o.writtenOn = lease;
          copy.wrote(o.key, value, revision);
          next(o, lease, value, revision, null);
          recheck(o);
        })
        .doOnError(e -> {
          o.writing--;
          if (own.get(o.key) == o && o.pending == null) {
            reassert(o);
          }
          next(o, lease, value, 0, e);
        });
  }

  /**
   * The end of the put of {@code o} in flight, however it ends; at once when there is none. For a
   * registration let go or replaced, whose waiting put then writes nothing ({@link #next}). On the loop.
   */
  private static Mono<Void> putEnded(Own o) {
    return o.writing == 0 ? Mono.empty() : waiting(o).asMono().then().onErrorResume(e -> Mono.empty());
  }

  /** The put that waits for {@code o}'s put in flight, which {@link #next} answers or sends. On the loop. */
  private static Sinks.One<Long> waiting(Own o) {
    if (o.next == null) {
      o.next = Sinks.one();
    }
    return o.next;
  }

  /**
   * A put of {@code o} that wrote {@code sent} on {@code lease} ended, at {@code revision} or with
   * {@code failure}: the put that waited for it, if any, is sent now, or answered as that one was when
   * it wrote what is wanted now (the same value, on the lease the key rides on now, and not deleted since).
   * On the loop.
   */
  private void next(Own o, long lease, byte[] sent, long revision, Throwable failure) {
    Sinks.One<Long> waiting = o.next;
    if (waiting == null) {
      return;
    }
    o.next = null;
    if (failure != null) {
      // as for the put that failed: the caller hears of it, and the re-assertion writes the value current then
      waiting.tryEmitError(failure);
    } else if (closed || own.get(o.key) != o || o.lease == 0) {
      // replaced, removed, or off its lease while it is put back on a fresh one, which writes the value current then
      waiting.tryEmitValue(0L);
    } else if (revision != 0 && lease == o.lease && Arrays.equals(sent, o.value) && !copy.knownMissing(o.key)) {
      waiting.tryEmitValue(revision);
    } else {
      put(o, o.lease).subscribe(waiting::tryEmitValue, waiting::tryEmitError);
    }
  }

  /**
   * Deletes {@code key} and lets go of it. Should etcd not confirm the delete, it is retried in the
   * background until it does, or until the key is registered or deregistered again through this
   * sidecar. Like any request whose answer was lost, it may land after what others did meanwhile.
   */
  private Mono<Long> remove(String key) {
    stopDeleting(key);
    Own o = own.remove(key);
    if (o != null) {
      o.stop();
    }
    copy.unheld(key);
    // after a write of the key still under way (without a lease, a delete, or a put of the registration
    // let go here), which etcd could otherwise apply last; a write of it that follows waits for this first attempt
    List<Mono<Void>> before = new ArrayList<>();
    if (o != null) {
      before.add(putEnded(o));
    }
    Runnable end = writeInOrder(List.of(key), before);
    return detached(Mono.when(before).then(delete(key))
        .doFinally(s -> end.run())
        .doOnNext(revision -> copy.erased(key, revision))
        .doOnError(e -> {
          if (closed || deleting.containsKey(key)) {
            return;
          }
          if (deleting.size() >= retriedDeletes) {
            if (notRetried++ == 0) {
              log.warn("deregistering {} failed ({}); not retried: {} deregistrations are being retried already"
                  + " (the next ones past the bound are counted, not logged)", key, e.toString(), deleting.size());
            }
          } else {
            if (notRetried > 0) {
              log.warn("{} failed deregistrations were not retried while the bound of {} was reached", notRetried,
                  retriedDeletes);
              notRetried = 0;
            }
            log.warn("deregistering {} failed ({}); retrying until etcd confirms it", key, e.toString());
            deleting.put(key, delete(key)
                .retryWhen(untilEtcdAnswers())
                .subscribe(r -> {
                  deleting.remove(key);
                  log.info("deregistered {} after etcd came back", key);
                }));
          }
        })
        // its lease is let go once the delete is answered (revoking a lease deletes its keys too)
        .doFinally(s -> detach(o)));
  }

  private Mono<Long> delete(String key) {
    return call(() -> client.getKVClient().delete(EtcdCache.bytes(key)))
        .map(r -> r.getHeader().getRevision())
        .publishOn(loop);
  }

  /** The key is registered again: a deregistration still being retried must not delete it. On the loop. */
  private void stopDeleting(String key) {
    Disposable retry = deleting.remove(key);
    if (retry != null) {
      retry.dispose();
    }
  }

  /**
   * Finds out, from etcd, why a key of ours is missing or its lease unheard of, and acts on it: puts it
   * back on a fresh lease when its lease is gone; keeps both when both are there (only the keep-alive
   * stream lost touch); lets it go when the lease lives but the key is gone or someone else's, which
   * is a delete on purpose, unless no write of it on that lease ever landed (a put that failed while
   * etcd was away, whose re-assertion waited for this check): then it is written. Reads the key before the lease, so a lease seen alive was alive when the
   * key was read, and its absence cannot be the lease's doing. Retries the reads until etcd answers.
   */
  private void repair(Own o, String why) {
    long lease = o.lease;
    if (closed || o.pending != null) {
      return;
    }
    if (lease == 0) {
      reassert(o);
      return;
    }
    o.pending = call(() -> client.getKVClient().get(EtcdCache.bytes(o.key)))
        .zipWhen(found -> call(() -> client.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT)))
        .retryWhen(untilEtcdAnswers())
        .publishOn(loop)
        .subscribe(found -> {
          o.pending = null;
          if (own.get(o.key) != o || o.lease != lease || closed) {
            return;
          }
          if (o.writing > 0 || o.revision > found.getT1().getHeader().getRevision()) {
            // a write of ours was under way or landed after the read: its confirmation looks again
            loop.schedule(() -> recheck(o));
            return;
          }
          KeyValue kv = onlyValue(found.getT1());
          if (found.getT2().getTTL() < 0) {
            log.warn("registration {} {} with its lease {}; registering it again", o.key, why, Long.toHexString(lease));
            reassert(o);
          } else if (kv != null && kv.getLease() == lease) {
            // the keep-alives never stopped for long (LeaseObserver.onCompleted started them again)
            log.info("registration {} and its lease {} are still in etcd", o.key, Long.toHexString(lease));
            o.writtenOn = lease;
            if (!Arrays.equals(kv.getValue().getBytes(), o.value)) {
              // re-registered with a new value while etcd was away, and that write did not land
              put(o, lease).subscribe(r -> { }, e -> { });
            } else {
              recheck(o);
            }
          } else if (kv == null && o.writtenOn != lease) {
            // no write of it on this lease ever landed (it failed while etcd was away): nobody deleted it
            log.info("registration {} never reached etcd on its lease {}; writing it again", o.key,
                Long.toHexString(lease));
            put(o, lease).subscribe(r -> { }, e -> { });
          } else {
            log.info("registration {} {} by someone else while its lease lives; no longer held", o.key,
                kv == null ? "was deleted" : "was taken over");
            own.remove(o.key);
            o.stop();
            detach(o);
            copy.unheld(o.key);
          }
        }, e -> o.pending = null);
  }

  private static KeyValue onlyValue(GetResponse response) {
    return response.getKvs().isEmpty() ? null : response.getKvs().get(0);
  }

  /** Puts a lost registration back on a fresh lease, retrying with backoff while it is still wanted. */
  private void reassert(Own o) {
    if (closed || o.pending != null) {
      return;
    }
    detach(o);
    o.pending = Mono.defer(() -> {
          if (own.get(o.key) != o) {
            return Mono.just(0L);
          }
          // each attempt starts clean: a lease an earlier attempt got before its put failed is let go
          detach(o);
          return establish(o);
        })
        .retryWhen(untilEtcdAnswers())
        .subscribe(r -> loop.schedule(() -> {
          o.pending = null;
          if (r > 0) {
            log.info("re-registered {} on lease {}", o.key, Long.toHexString(o.lease));
          }
          recheck(o);
        }), e -> loop.schedule(() -> o.pending = null));
  }

  /**
   * After a write or a check of {@code o}: a delete the watch reported meanwhile, whose own check was
   * skipped while this was under way, is looked into now. On the loop.
   */
  private void recheck(Own o) {
    if (own.get(o.key) == o && settled(o) && copy.knownMissing(o.key)) {
      repair(o, "was deleted");
    }
  }

  private void expireDue() {
    long now = ticker.read();
    for (Own o : new ArrayList<>(own.values())) {
      if (o.deadline <= now) {
        log.debug("registration {} not renewed within {}; removing it", o.key, o.ttl);
        remove(o.key).onErrorResume(e -> Mono.empty()).subscribe();
      }
    }
  }

  /**
   * One etcd call, retried a few times on failure or on silence, never blocking a jetcd thread; not
   * retried when etcd answered that the lease is gone, which stays so: the caller puts the registration
   * back on a new lease at once instead of after four more refusals (about 1.5 s).
   */
  private static <T> Mono<T> call(Supplier<CompletableFuture<T>> request) {
    return Mono.fromFuture(request)
        .timeout(ATTEMPT_TIMEOUT)
        .retryWhen(Retry.backoff(4, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(1))
            .filter(e -> !leaseGone(e)));
  }

  private static boolean leaseGone(Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    return cause instanceof EtcdException x && x.getErrorCode() == ErrorCode.NOT_FOUND;
  }

  /** {@code o} rides on {@code lease} from now on; the first key on a lease starts keeping it alive. On the loop. */
  private void attach(Own o, long lease) {
    detach(o);
    if (lease != 0) {
      o.lease = lease;
      leases.computeIfAbsent(lease, Held::new).keys.add(o);
    }
  }

  /**
   * {@code o} rides on no lease from now on; the last key off a lease stops keeping it alive and revokes
   * it. Lets go once however often it is called for the same lease. On the loop.
   */
  private void detach(Own o) {
    if (o == null || o.lease == 0) {
      return;
    }
    long lease = o.lease;
    o.lease = 0;
    Held held = leases.get(lease);
    if (held != null && held.keys.remove(o) && held.keys.isEmpty()) {
      leases.remove(lease);
      held.keepAlive.close();
      revokeLater(lease);
    }
  }

  /**
   * Our registrations on {@code lease}, for what its keep-alive tells; not one being deregistered, which
   * keeps its lease until etcd answers the delete. On the loop.
   */
  private List<Own> on(long lease) {
    Held held = leases.get(lease);
    return held == null ? List.of() : held.keys.stream().filter(o -> own.get(o.key) == o).toList();
  }

  private void revokeLater(long lease) {
    if (lease != 0) {
      Mono.fromFuture(() -> client.getLeaseClient().revoke(lease)).timeout(CALL_TIMEOUT)
          .onErrorResume(e -> Mono.empty()).subscribe();
    }
  }

  private <T> Mono<T> onWorker(Supplier<Mono<T>> work) {
    return Mono.defer(work).subscribeOn(loop);
  }


  /** One lease of ours: its one keep-alive, and our registrations that ride on it. Loop only. */
  private final class Held {
    final long lease;
    /** By identity ({@link Own} keeps {@link Object#equals}): a new registration of a key is another. */
    final Set<Own> keys = new HashSet<>();
    LeaseObserver observer;
    CloseableClient keepAlive;

    Held(long lease) {
      this.lease = lease;
      keepAlive();
    }

    /**
     * Starts keeping the lease alive, or again once jetcd has given up on it. The handle jetcd gave up
     * on is closed first: jetcd forgets a lease by its id when the last observer of an entry goes.
     */
    void keepAlive() {
      if (keepAlive != null) {
        keepAlive.close();
      }
      observer = new LeaseObserver(lease);
      keepAlive = client.getLeaseClient().keepAlive(lease, observer);
    }
  }

  /** Hears from jetcd's keep-alive stream about one lease and hands what matters to the loop. */
  private final class LeaseObserver implements StreamObserver<LeaseKeepAliveResponse> {
    private final long lease;

    LeaseObserver(long lease) {
      this.lease = lease;
    }

    @Override
    public void onNext(LeaseKeepAliveResponse response) {
      // alive; nothing to do
    }

    @Override
    public void onError(Throwable t) {
      // A broken stream is restarted by jetcd (half a second later); only a lease etcd no longer knows is lost.
      if (leaseGone(t)) {
        loop.schedule(() -> {
          if (current()) {
            for (Own o : on(lease)) {
              log.warn("lease {} of {} lost (etcd no longer knows it); registering again", Long.toHexString(lease), o.key);
              reassert(o);
            }
          }
        });
      } else {
        // the connection is gone: its return is not left to gRPC's growing wait, a lease's TTL may be short
        backoff.reset();
      }
    }

    @Override
    public void onCompleted() {
      // jetcd heard nothing for a TTL and stopped keeping the lease alive: etcd away, restarted, or the
      // lease gone. Keep-alives go out again at once, so the lease is renewed the moment etcd answers
      // (a restarted etcd gives every lease one fresh TTL, no more), and etcd says which it was.
      loop.schedule(() -> {
        if (current()) {
          leases.get(lease).keepAlive();
          for (Own o : on(lease)) {
            repair(o, "had no keep-alive answer within its TTL");
          }
        }
      });
    }

    /** Whether this is the keep-alive of a lease we hold, not one replaced or let go. On the loop. */
    private boolean current() {
      Held held = leases.get(lease);
      return held != null && held.observer == this && !closed;
    }
  }

  private static final class Own {
    final String key;
    final Duration ttl;
    volatile byte[] value;
    long deadline;
    /** The lease the key rides on ({@link #leases}); 0 while it has none. */
    long lease;
    /** etcd revision of our last confirmed write of this key; 0 until the first one. */
    long revision;
    /**
     * The lease our last confirmed write of the key rode on; 0 until one. Only a key etcd had on its
     * lease can have been deleted on purpose; one never written there is written again.
     */
    long writtenOn;
    /** Puts of this key sent and not yet answered (at most one); loop only. A check of the key waits for them. */
    int writing;
    /** Callers of a put asked for while one was in flight, which sends theirs when it ends ({@link #put}); loop only. */
    Sinks.One<Long> next;
    Disposable pending;

    Own(String key, byte[] value, Duration ttl, long deadline) {
      this.key = key;
      this.value = value;
      this.ttl = ttl;
      this.deadline = deadline;
    }

    /** Stops what is under way for the key (a check or re-assertion). */
    void stop() {
      if (pending != null) {
        pending.dispose();
        pending = null;
      }
    }
  }
}
