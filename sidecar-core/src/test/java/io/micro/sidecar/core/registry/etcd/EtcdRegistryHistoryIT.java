package io.micro.sidecar.core.registry.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.testing.Closing;
import io.micro.sidecar.core.testing.EtcdCluster;
import io.micro.sidecar.core.testing.TcpProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registry correctness under churn, in the spirit of etcd's robustness tests: several sidecars
 * register, deregister and look up while etcd is stopped and restarted and the sidecars are cut off
 * from it (partitions, through {@link TcpProxy}); afterwards a checker reads the recorded history.
 *
 * <p>Each key (one node of one service) has an owner, the only sidecar that registers it (as a sidecar
 * registers its app); any sidecar may deregister any key, as an operator's {@code micro deregister}
 * through another sidecar does. Operations on one key are serialised, so its history is a sequence;
 * each registration writes a new sequence number into the node's metadata, so a lookup tells which
 * registration it saw.
 *
 * <p>What the checker holds every lookup to: it shows only registrations made before it ended (no
 * phantom); one sidecar never sees a key go back to an older registration; the owner never sees its
 * key missing unless a deregistration of it was asked since its last confirmed registration (no loss,
 * through etcd restarts and re-listings). And afterwards, once everything is connected again, every
 * sidecar and etcd itself agree on each key's last operation (no ghost, no loss), with the two
 * freedoms a history allows: an operation that failed may still take effect later (unless its sidecar
 * did something else to the key since), and a key deleted by another sidecar around the time its
 * owner was cut off long enough for etcd to expire its lease may come back, since that delete is
 * indistinguishable from the expiry. The same first freedom holds for lookups: a deregistration that failed, still
 * being retried, may delete the owner's later registration.
 */
class EtcdRegistryHistoryIT {

  private static final Logger log = LoggerFactory.getLogger(EtcdRegistryHistoryIT.class);
  private static final int SIDECARS = 3;
  private static final int KEYS = 6;
  private static final Duration RUN = Duration.ofSeconds(40);
  /** Long enough that cuts shorter than a TTL's two thirds less {@link #RENEWAL_LAG} are checked strictly. */
  private static final Duration TTL = Duration.ofSeconds(9);
  private static final Duration OP_WAIT = Duration.ofSeconds(30);
  /** Up to how long after a sidecar's link to etcd is back its leases are renewed: see {@link #finalStates}. */
  private static final Duration RENEWAL_LAG = Duration.ofMillis(2500);
  private static final String NAME = "hist";

  @RegisterExtension
  final Closing closing = new Closing();

  private <T extends AutoCloseable> T own(T resource) {
    return closing.own(resource);
  }

  /** One register or deregister of {@code key}; {@code completed} is when it answered, ok or not. */
  record Op(int key, int sidecar, boolean register, long seq, long invoked, long completed, boolean ok) {
    /** The key's state this operation asks for: a registration's sequence number, or -1 for none. */
    long state() {
      return register ? seq : -1;
    }

    String describe(long start) {
      return String.format("%s%s by %d at %d-%d ms%s", register ? "register " : "deregister", register ? seq : "",
          sidecar, (invoked - start) / 1_000_000, (completed - start) / 1_000_000, ok ? "" : " FAILED");
    }
  }

  /** What one lookup showed: key → sequence number of the registration seen. */
  record Lookup(int sidecar, long started, long ended, Map<Integer, Long> seen) { }

  /** A sidecar cut off from etcd between two instants. */
  record Cut(int sidecar, long from, long to) {
    String describe(long start) {
      return String.format("%s %d-%d ms", sidecar < 0 ? "etcd stopped" : sidecar + " cut off", (from - start) / 1_000_000, (to - start) / 1_000_000);
    }
  }

  private static int owner(int key) {
    return key % SIDECARS;
  }

  private static Service node(int key, long seq) {
    return new Service(NAME, "", null, null,
        List.of(new Node("k" + key, "127.0.0.1", 1000 + key, seq < 0 ? null : Map.of("seq", Long.toString(seq)))));
  }

  private static Map<Integer, Long> seen(EtcdRegistry r) {
    Map<Integer, Long> seen = new TreeMap<>();
    for (Service s : r.find(NAME)) {
      for (Node n : s.nodes()) {
        seen.put(Integer.parseInt(n.id().substring(1)), Long.parseLong(n.metadata().get("seq")));
      }
    }
    return seen;
  }

  @Test
  void registrationsSurviveRestartsAndPartitionsWithNoGhostAndNoLoss() throws Exception {
    long seed = Long.getLong("history.seed", System.nanoTime());
    log.info("history seed {} (-Dhistory.seed={} repeats the fault schedule)", seed, seed);
    EtcdCluster etcd = own(EtcdCluster.start(1));
    TcpProxy[] links = new TcpProxy[SIDECARS];
    EtcdRegistry[] sidecars = new EtcdRegistry[SIDECARS];
    for (int s = 0; s < SIDECARS; s++) {
      links[s] = own(TcpProxy.to(etcd.endpoint(0)));
      sidecars[s] = own(EtcdRegistry.builder().endpoints(List.of(links[s].address())).defaultTtl(TTL)
          .progressEvery(Duration.ofMillis(500)).stallAfter(Duration.ofSeconds(3)).build());
    }
    for (EtcdRegistry r : sidecars) {
      await().atMost(Duration.ofSeconds(20)).until(r::ready);
    }

    List<Op> ops = new CopyOnWriteArrayList<>();
    List<Lookup> lookups = new CopyOnWriteArrayList<>();
    List<Cut> cuts = new CopyOnWriteArrayList<>();
    List<Cut> stops = new ArrayList<>();
    ReentrantLock[] locks = new ReentrantLock[KEYS];
    for (int k = 0; k < KEYS; k++) {
      locks[k] = new ReentrantLock();
    }
    AtomicLong seqs = new AtomicLong();
    long start = System.nanoTime();
    long end = start + RUN.toNanos();

    List<Thread> workers = new ArrayList<>();
    for (int s = 0; s < SIDECARS; s++) {
      int me = s;
      Random random = new Random(seed + 1 + s);
      Thread worker = new Thread(() -> {
        while (System.nanoTime() < end) {
          int key = random.nextInt(KEYS);
          boolean mine = owner(key) == me;
          if (mine || random.nextInt(10) == 0) {
            boolean register = mine && random.nextInt(10) < 7;
            locks[key].lock();
            try {
              long seq = register ? seqs.incrementAndGet() : -1;
              long invoked = System.nanoTime();
              boolean ok = true;
              try {
                if (register) {
                  sidecars[me].registerOwn(node(key, seq)).block(OP_WAIT);
                } else {
                  sidecars[me].deregister(node(key, -1)).block(OP_WAIT);
                }
              } catch (RuntimeException e) {
                ok = false;
              }
              ops.add(new Op(key, me, register, seq, invoked, System.nanoTime(), ok));
            } finally {
              locks[key].unlock();
            }
          }
          long started = System.nanoTime();
          Map<Integer, Long> seen = seen(sidecars[me]);
          lookups.add(new Lookup(me, started, System.nanoTime(), seen));
          // the workload's pace, a few operations a second per sidecar
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(100)));
        }
      }, "history-" + s);
      worker.start();
      workers.add(worker);
    }

    // the faults: etcd stopped and restarted, one sidecar or two cut off, for less or more than the TTL
    Random chaos = new Random(seed);
    while (System.nanoTime() < end) {
      TimeUnit.MILLISECONDS.sleep(500 + chaos.nextInt(2000));
      long outage = 1000 + chaos.nextInt(9000);
      int fault = chaos.nextInt(3);
      if (fault == 0) {
        long from = System.nanoTime();
        etcd.stop(0);
        TimeUnit.MILLISECONDS.sleep(outage);
        etcd.restart(0);
        stops.add(new Cut(-1, from, System.nanoTime()));
      } else {
        List<Integer> victims = new ArrayList<>(List.of(chaos.nextInt(SIDECARS)));
        if (fault == 2) {
          victims.add((victims.get(0) + 1) % SIDECARS);
        }
        long from = System.nanoTime();
        victims.forEach(v -> links[v].cut());
        TimeUnit.MILLISECONDS.sleep(outage);
        victims.forEach(v -> links[v].restore());
        long to = System.nanoTime();
        victims.forEach(v -> cuts.add(new Cut(v, from, to)));
      }
    }
    for (Thread w : workers) {
      w.join(OP_WAIT.toMillis() * 2);
    }
    log.info("history: {} operations ({} failed), {} lookups, {} cuts", ops.size(),
        ops.stream().filter(o -> !o.ok()).count(), lookups.size(), cuts.size());

    checkLookups(ops, lookups);
    Map<Integer, List<Long>> allowed = finalStates(ops, cuts);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      List<String> inEtcd = etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/" + NAME + "/").lines()
          .filter(l -> !l.isBlank()).map(l -> l.substring(l.lastIndexOf('/') + 1)).sorted().toList();
      for (int s = 0; s < SIDECARS; s++) {
        Map<Integer, Long> seen = seen(sidecars[s]);
        for (int k = 0; k < KEYS; k++) {
          int key = k;
          assertThat(allowed.get(k)).as("sidecar %d, key k%d (seed %d); etcd holds %s; history %s; cuts %s", s, k, seed,
              inEtcd, ops.stream().filter(o -> o.key() == key).map(o -> o.describe(start)).toList(),
              Stream.concat(cuts.stream(), stops.stream()).map(c -> c.describe(start)).toList())
              .contains(seen.getOrDefault(k, -1L));
        }
        assertThat(seen.keySet().stream().map(k -> "k" + k).sorted().toList())
            .as("sidecar %d (copy %s old) shows what etcd holds (seed %d)", s, sidecars[s].cacheAge(), seed)
            .isEqualTo(inEtcd);
        assertThat(seen).as("every sidecar agrees").isEqualTo(seen(sidecars[0]));
      }
    });
  }

  private static void checkLookups(List<Op> ops, List<Lookup> lookups) {
    Map<Long, Op> registrations = new HashMap<>();
    ops.stream().filter(Op::register).forEach(o -> registrations.put(o.seq(), o));
    Map<String, Long> lastSeen = new HashMap<>();
    for (Lookup l : lookups) {
      for (Map.Entry<Integer, Long> e : l.seen().entrySet()) {
        Op made = registrations.get(e.getValue());
        assertThat(made).as("a lookup by sidecar %d shows k%d seq %d, which nobody registered", l.sidecar(), e.getKey(),
            e.getValue()).isNotNull();
        assertThat(made.invoked()).as("k%d seq %d shown before it was registered", e.getKey(), e.getValue())
            .isLessThan(l.ended());
        Long before = lastSeen.put(l.sidecar() + "/" + e.getKey(), e.getValue());
        assertThat(e.getValue()).as("sidecar %d went back to an older registration of k%d", l.sidecar(), e.getKey())
            .isGreaterThanOrEqualTo(before == null ? 0 : before);
      }
      for (int k = 0; k < KEYS; k++) {
        if (owner(k) != l.sidecar() || l.seen().containsKey(k)) {
          continue;
        }
        int key = k;
        Op confirmed = ops.stream()
            .filter(o -> o.key() == key && o.register() && o.ok() && o.completed() < l.started())
            .reduce((a, b) -> b).orElse(null);
        if (confirmed != null) {
          boolean deregistered = ops.stream().anyMatch(o -> o.key() == key && !o.register()
              && (o.invoked() > confirmed.invoked() || !o.ok() && !supersededBefore(ops, o, l.started()))
              && o.invoked() < l.ended());
          assertThat(deregistered).as("the owner lost k%d (seq %d, confirmed) with no deregistration asked since;"
              + " lookup %s; history %s", k, confirmed.seq(), l, ops.stream().filter(o -> o.key() == key).toList())
              .isTrue();
        }
      }
    }
  }

  /** Whether the sidecar that made {@code op} did something else to its key before {@code instant}. */
  private static boolean supersededBefore(List<Op> ops, Op op, long instant) {
    return ops.stream().anyMatch(o -> o.key() == op.key() && o.sidecar() == op.sidecar()
        && o.invoked() > op.invoked() && o.invoked() < instant);
  }

  /** Per key, the states it may end in: see the class comment. */
  private static Map<Integer, List<Long>> finalStates(List<Op> ops, List<Cut> cuts) {
    Map<Integer, List<Long>> allowed = new HashMap<>();
    for (int k = 0; k < KEYS; k++) {
      int key = k;
      List<Op> history = ops.stream().filter(o -> o.key() == key).toList();
      List<Long> states = new ArrayList<>();
      allowed.put(k, states);
      if (history.isEmpty()) {
        states.add(-1L);
        continue;
      }
      Op last = history.get(history.size() - 1);
      states.add(last.state());
      for (int s = 0; s < SIDECARS; s++) {
        int sidecar = s;
        Op mine = history.stream().filter(o -> o.sidecar() == sidecar).reduce((a, b) -> b).orElse(null);
        if (mine != null && mine != last && !mine.ok()) {
          states.add(mine.state());
        }
      }
      // a cut long enough for the owner's lease to expire, ending after the delete was asked, or just
      // before it, while the owner's repair was under way. A keep-alive goes out every third of the TTL,
      // and the first one after the link is back lands up to RENEWAL_LAG later: gRPC is told to
      // reconnect at most 1.2 s apart (ConnectBackoff), jetcd restarts its keep-alive stream half a
      // second after an error and sends on half-second ticks
      Op ownersLast = history.stream().filter(o -> o.sidecar() == owner(key)).reduce((a, b) -> b).orElse(null);
      long expiry = TTL.toNanos() * 2 / 3 - RENEWAL_LAG.toNanos();
      long repair = TTL.toNanos() + EtcdCache.RECONNECT_BACKOFF_MAX.toNanos();
      if (ownersLast != null && ownersLast.register() && ownersLast != last
          && cuts.stream().anyMatch(c -> c.sidecar() == owner(key) && c.to() - c.from() > expiry
              && c.to() + repair > last.invoked())) {
        states.add(ownersLast.seq());
      }
    }
    return allowed;
  }
}
