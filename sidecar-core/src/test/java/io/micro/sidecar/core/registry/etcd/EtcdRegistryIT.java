package io.micro.sidecar.core.registry.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.NodeSet;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.RegistryEvent;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.testing.Closing;
import io.micro.sidecar.core.testing.EtcdCluster;
import io.micro.sidecar.core.testing.TcpProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The etcd registry against real etcd processes (Debian's etcd-server). */
class EtcdRegistryIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension
  final Closing closing = new Closing();

  private <T extends AutoCloseable> T own(T resource) {
    return closing.own(resource);
  }

  private EtcdRegistry registry(List<String> endpoints, Duration defaultTtl) {
    return own(EtcdRegistry.builder().endpoints(endpoints).defaultTtl(defaultTtl)
        .progressEvery(Duration.ofMillis(500)).stallAfter(Duration.ofSeconds(3)).build());
  }

  private static Service service(String name, String id, int port) {
    return new Service(name, "", null, null, List.of(new Node(id, "127.0.0.1", port, null)));
  }

  /**
   * {@code assertion} holds at every check, five a second, for {@code period}: the first check it fails
   * fails the test, however slow the machine.
   */
  private static void holdsFor(Duration period, ThrowingRunnable assertion) {
    await().during(period).atMost(period.plus(WAIT)).pollInterval(Duration.ofMillis(200))
        .failFast("held for " + period, assertion).until(() -> true);
  }

  private static List<String> ids(Registry r, String name) {
    return r.lookup(name).block(WAIT).stream().flatMap(s -> s.nodes().stream()).map(Node::id).sorted().toList();
  }

  @Test
  void twoSidecarsOnOneEtcdSeeEachOthersRegistrations() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));

    a.register(service("foo", "foo-a", 1), Registry.NO_TTL).block(WAIT);
    // read-your-writes: the registering sidecar sees its node as soon as register completes
    assertThat(ids(a, "foo")).containsExactly("foo-a");
    b.register(service("foo", "foo-b", 2), Registry.NO_TTL).block(WAIT);
    assertThat(ids(b, "foo")).containsExactly("foo-a", "foo-b");
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(a, "foo")).containsExactly("foo-a", "foo-b"));
    // the nodes calls choose among, made when the watch changed them: the same set until it does again
    NodeSet both = a.nodes("foo");
    assertThat(both.asList()).extracting(Node::id).containsExactly("foo-a", "foo-b");
    assertThat(a.nodes("foo")).isSameAs(both);

    b.deregister(service("foo", "foo-b", 2)).block(WAIT);
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(a, "foo")).containsExactly("foo-a"));
    assertThat(a.nodes("foo").asList()).extracting(Node::id).containsExactly("foo-a");
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/foo/").strip())
        .isEqualTo("/micro-registry/foo/foo-a");
  }

  private static List<String> leases(EtcdCluster etcd) {
    return etcd.etcdctl("lease", "list").lines().map(String::strip).filter(l -> l.matches("[0-9a-f]+")).toList();
  }

  @Test
  void aRegistrationWhoseLeaseIsRevokedBehindItsBackIsPutBackOnANewLease() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    a.register(service("revoked", "revoked-1", 1), Duration.ofSeconds(10)).block(WAIT);
    List<String> before = leases(etcd);
    assertThat(before).hasSize(1);
    // an operator's revoke, or etcd restored from a snapshot older than the lease: the key goes with it
    etcd.etcdctl("lease", "revoke", before.get(0));
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(leases(etcd)).hasSize(1).doesNotContain(before.get(0));
      assertThat(etcd.etcdctl("get", "--keys-only", "/micro-registry/revoked/revoked-1").strip())
          .isEqualTo("/micro-registry/revoked/revoked-1");
      assertThat(ids(b, "revoked")).containsExactly("revoked-1");
    });
  }

  private static Service many(String name, int nodes) {
    List<Node> list = new ArrayList<>(nodes);
    for (int i = 0; i < nodes; i++) {
      list.add(new Node(name + "-" + i, "10.0." + (i / 250) + "." + (i % 250), 8080, null));
    }
    return new Service(name, "", null, null, list);
  }

  private static int keys(EtcdCluster etcd, String name) throws Exception {
    return (int) etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/" + name + "/").lines()
        .filter(l -> !l.isBlank()).count();
  }

  @Test
  void aRegistrationOfManyNodesIsWrittenOnOneLeaseAllOrNone() throws Exception {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    a.register(many("forever", 10_000), Registry.NO_TTL).block(WAIT);
    assertThat(keys(etcd, "forever")).isEqualTo(10_000);
    assertThat(etcd.etcdctl("lease", "list").lines().filter(l -> l.matches("[0-9a-f]{16}"))).as("no TTL: no lease").isEmpty();
    a.register(many("bulk", 10_000), Duration.ofSeconds(30)).block(WAIT);
    assertThat(ids(a, "bulk")).hasSize(10_000);
    assertThat(keys(etcd, "bulk")).isEqualTo(10_000);
    assertThat(etcd.etcdctl("lease", "list").lines().filter(l -> l.matches("[0-9a-f]{16}"))).as("leases").hasSize(1);
    // taking one node out leaves the others on their lease
    a.deregister(new Service("bulk", "", null, null, List.of(new Node("bulk-7", "", 0, null)))).block(WAIT);
    assertThat(keys(etcd, "bulk")).isEqualTo(9_999);

    // a caller that gives up half-way leaves nothing behind, with a TTL (its lease is revoked) or without
    assertAbandonedLeavesNothing(etcd, a, Duration.ofSeconds(30));
    assertAbandonedLeavesNothing(etcd, a, Registry.NO_TTL);
    assertThat(keys(etcd, "bulk")).isEqualTo(9_999);
  }

  private void assertAbandonedLeavesNothing(EtcdCluster etcd, EtcdRegistry a, Duration ttl) throws Exception {
    Service big = many("abandoned", 40_000);
    AtomicReference<Disposable> registering = new AtomicReference<>();
    Disposable watching = a.watch()
        .filter(e -> e.service().name().equals("abandoned"))
        .take(1)
        .subscribe(first -> registering.get().dispose());
    registering.set(a.register(big, ttl).subscribe());
    await().atMost(WAIT).untilAsserted(() -> assertThat(registering.get().isDisposed()).isTrue());
    await().atMost(WAIT).untilAsserted(() -> assertThat(keys(etcd, "abandoned")).isZero());
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(a, "abandoned")).isEmpty());
    watching.dispose();
  }

  @ParameterizedTest(name = "ttl {0} s")
  @ValueSource(ints = {0, 30})
  void updatesOfOneNodeInQuickSuccessionLeaveTheLastOneInEtcd(int ttlSeconds) {
    Duration ttl = Duration.ofSeconds(ttlSeconds);
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    a.register(service("moving", "moving-1", 10000), ttl).block(WAIT);
    // an app re-registering as its address or metadata changes: each update sent before the last is confirmed
    List<Mono<Void>> updates = new ArrayList<>();
    for (int port = 10001; port <= 10200; port++) {
      updates.add(a.register(service("moving", "moving-1", port), ttl));
    }
    Flux.merge(updates).blockLast(WAIT);
    assertThat(etcd.etcdctl("get", "--print-value-only", "/micro-registry/moving/moving-1"))
        .as("what etcd holds").contains("\"port\":10200");
    await().atMost(WAIT).untilAsserted(() -> assertThat(b.lookup("moving").block(WAIT).get(0).nodes().get(0).port())
        .as("what another sidecar sees").isEqualTo(10200));
    assertThat(a.lookup("moving").block(WAIT).get(0).nodes().get(0).port()).isEqualTo(10200);
  }

  @Test
  void aDeregistrationSentRightAfterARegistrationWithoutTtlLeavesNothingBehind() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    for (int i = 0; i < 20; i++) {
      // an app that registers and goes away at once: the delete is sent before the write is answered
      Service brief = service("brief", "brief-" + i, 10000 + i);
      Flux.merge(a.register(brief, Registry.NO_TTL), a.deregister(brief)).blockLast(WAIT);
    }
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/brief/").strip()).isEmpty();
  }

  @Test
  void aNodeRegisteredWithAnotherTtlWhileAnUpdateOfItIsUnansweredKeepsTheLastValue() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    for (int i = 0; i < 10; i++) {
      a.register(service("ttl", "ttl-" + i, 10000), Duration.ofSeconds(30)).block(WAIT);
      // an update on its lease, then one with another TTL (a new lease) sent before the first is answered
      Flux.merge(a.register(service("ttl", "ttl-" + i, 10001), Duration.ofSeconds(30)),
          a.register(service("ttl", "ttl-" + i, 10002), Duration.ofSeconds(20))).blockLast(WAIT);
    }
    holdsFor(Duration.ofSeconds(1), () -> assertThat(etcd.etcdctl("get", "--prefix", "--print-value-only",
        "/micro-registry/ttl/").lines().filter(l -> !l.isBlank()))
        .as("every node, with its last value").hasSize(10).allMatch(v -> v.contains("\"port\":10002")));
  }

  @Test
  void aNodeRegisteredOnALeaseRightAfterItsDeregistrationStays() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    for (int i = 0; i < 10; i++) {
      // written without a TTL, deregistered and registered again with one, each sent before the last is answered
      Service back = service("back", "back-" + i, 10000 + i);
      Flux.merge(a.register(back, Registry.NO_TTL), a.deregister(back), a.register(back, Duration.ofSeconds(30)))
          .blockLast(WAIT);
    }
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/back/").lines().filter(l -> !l.isBlank()))
        .hasSize(10);
  }

  @Test
  void aSlashInANameOrIdBecomesADashInTheKeyAndTheValueKeepsTheName() throws Exception {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    a.register(service("go.micro/srv.greeter", "node/1", 9091), Registry.NO_TTL).block(WAIT);
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/").strip())
        .isEqualTo("/micro-registry/go.micro-srv.greeter/node-1");
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "go.micro/srv.greeter")).containsExactly("node/1"));
    assertThat(b.lookup("go.micro/srv.greeter").block(WAIT).get(0).name()).isEqualTo("go.micro/srv.greeter");
    a.deregister(service("go.micro/srv.greeter", "node/1", 9091)).block(WAIT);
    await().atMost(WAIT).untilAsserted(() -> assertThat(b.lookup("go.micro/srv.greeter").block(WAIT)).isEmpty());
  }

  @Test
  void aKeyInGoMicrosLayoutWrittenWithEtcdctlIsDiscoveredAndOursReadsBackTheSame() throws Exception {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry r = registry(etcd.endpoints(), Duration.ofSeconds(10));
    BlockingQueue<RegistryEvent> events = new LinkedBlockingQueue<>();
    Disposable watching = r.watch().subscribe(events::add);
    try {
      await().atMost(WAIT).until(r::ready);
      String value = "{\"name\":\"go.micro.srv.greeter\",\"version\":\"latest\",\"metadata\":null,"
          + "\"endpoints\":[{\"name\":\"Say.Hello\",\"request\":{\"name\":\"Request\",\"type\":\"Request\",\"values\":"
          + "[{\"name\":\"name\",\"type\":\"string\",\"values\":null}]},\"response\":null,\"metadata\":{\"stream\":\"false\"}}],"
          + "\"nodes\":[{\"id\":\"go.micro.srv.greeter-7f3c\",\"address\":\"10.0.0.7\",\"port\":54321,"
          + "\"metadata\":{\"broker\":\"http\",\"registry\":\"etcd\",\"server\":\"rpc\",\"transport\":\"http\"}}]}";
      etcd.etcdctl("put", "/micro/registry/go.micro.srv.greeter/go.micro.srv.greeter-7f3c", value);

      RegistryEvent created = events.poll(20, TimeUnit.SECONDS);
      assertThat(created).isNotNull();
      assertThat(created.action()).isEqualTo(RegistryEvent.Action.CREATE);
      List<Service> found = r.lookup("go.micro.srv.greeter").block(WAIT);
      assertThat(found).hasSize(1);
      Service s = found.get(0);
      assertThat(s.version()).isEqualTo("latest");
      assertThat(s.endpoints().get(0).name()).isEqualTo("Say.Hello");
      assertThat(s.nodes()).containsExactly(new Node("go.micro.srv.greeter-7f3c", "10.0.0.7", 54321,
          Map.of("broker", "http", "registry", "etcd", "server", "rpc", "transport", "http")));

      etcd.etcdctl("del", "/micro/registry/go.micro.srv.greeter/go.micro.srv.greeter-7f3c");
      RegistryEvent deleted = events.poll(20, TimeUnit.SECONDS);
      assertThat(deleted.action()).isEqualTo(RegistryEvent.Action.DELETE);
      assertThat(r.lookup("go.micro.srv.greeter").block(WAIT)).isEmpty();

      r.registerOwn(service("foo.bar", "foo.bar-1", 9091)).block(WAIT);
      assertThat(etcd.etcdctl("get", "--print-value-only", "/micro-registry/foo.bar/foo.bar-1").strip())
          .isEqualTo("{\"name\":\"foo.bar\",\"version\":\"\",\"metadata\":null,\"endpoints\":null,"
              + "\"nodes\":[{\"id\":\"foo.bar-1\",\"address\":\"127.0.0.1\",\"port\":9091,\"metadata\":null}]}");
      assertThat(etcd.etcdctl("get", "--write-out=fields", "/micro-registry/foo.bar/foo.bar-1"))
          .as("the key rides on a lease").containsPattern("\"Lease\" : [1-9]");
    } finally {
      watching.dispose();
    }
  }

  @Test
  void aValueWithANodeWithoutAnIdIsIgnoredAndEverythingElseStillAnswered() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    a.register(service("fine", "fine-1", 1), Registry.NO_TTL).block(WAIT);
    // written by another tool: two nodes in one value, one of them without an id
    etcd.etcdctl("put", "/micro-registry/odd/x", "{\"name\":\"odd\",\"version\":\"\",\"nodes\":["
        + "{\"id\":\"n1\",\"address\":\"10.0.0.1\",\"port\":1},{\"address\":\"10.0.0.2\",\"port\":2}]}");
    a.register(service("fine", "fine-2", 2), Registry.NO_TTL).block(WAIT);
    assertThat(ids(a, "fine")).containsExactly("fine-1", "fine-2");
    assertThat(ids(a, "odd")).isEmpty();
  }

  @Test
  void aTtlRegistrationStaysWhileRenewedAndDisappearsWhenNot() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    Service s = service("beat", "beat-1", 1);
    Duration ttl = Duration.ofSeconds(2);

    a.register(s, ttl).block(WAIT);
    // a heartbeat every half TTL, as an app re-posting its registration would
    Disposable heartbeat = Flux.interval(ttl.dividedBy(2)).concatMap(i -> a.register(s, ttl)).subscribe();
    try {
      holdsFor(Duration.ofSeconds(5),
          () -> assertThat(ids(b, "beat")).as("still registered while renewed").containsExactly("beat-1"));
    } finally {
      heartbeat.dispose();
    }
    long stopped = System.nanoTime();
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "beat")).isEmpty());
    assertThat(Duration.ofNanos(System.nanoTime() - stopped)).as("gone within about the TTL")
        .isLessThan(ttl.plusSeconds(3));
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/beat/").strip()).isEmpty();
  }

  @Test
  void lookupsKeepAnsweringWhileEtcdIsDownAndRegistrationsAreBackAfterItRestarts() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(2));
    a.registerOwn(service("app", "app-1", 1)).block(WAIT);
    a.registerOwn(service("other", "other-1", 2)).block(WAIT);

    etcd.stop(0);
    // for longer than the lease TTL: lookups answer from the cache throughout, and its age shows
    holdsFor(Duration.ofSeconds(5), () -> {
      assertThat(ids(a, "app")).containsExactly("app-1");
      assertThat(ids(a, "other")).containsExactly("other-1");
    });
    assertThat(a.cacheAge()).isGreaterThan(Duration.ofSeconds(3));

    etcd.restart(0);
    // the sidecar's own registrations never leave its lookups, through the re-listing and the checks of
    // leases it heard nothing about for longer than their TTL (issue 16, item 3)
    holdsFor(Duration.ofSeconds(6), () -> assertThat(ids(a, "app")).containsExactly("app-1"));
    assertThat(a.cacheAge()).isLessThan(Duration.ofSeconds(2));
    // the registration is in etcd itself, for everyone else, and on a live lease
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "app")).containsExactly("app-1"));
    holdsFor(Duration.ofSeconds(4),
        () -> assertThat(ids(b, "app")).as("still there after the lease TTL").containsExactly("app-1"));
  }

  /** The etcd revision that created {@code key}, or 0 when etcd lacks it. */
  private static long createdAt(EtcdCluster etcd, String key) {
    Matcher m = Pattern.compile("\"create_revision\":(\\d+)").matcher(etcd.etcdctl("get", key, "-w", "json"));
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  @Test
  void afterALongOutageTheRestartedEtcdKeepsEveryRegistrationAndNoneDeletedMeanwhileComesBack() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    TcpProxy link = own(TcpProxy.to(etcd.endpoint(0)));
    // a TTL of 6 s: with the fix the lease is renewed within about 3.5 s of etcd answering; left to
    // gRPC's own wait, the next try comes 13 s or more after the one the link returns behind
    EtcdRegistry a = registry(List.of(link.address()), Duration.ofSeconds(6));
    // two nodes in one registration: they share one lease
    a.registerOwn(new Service("app", "", null, null, List.of(new Node("app-1", "127.0.0.1", 1, null),
        new Node("app-2", "127.0.0.1", 2, null)))).block(WAIT);
    long created = createdAt(etcd, "/micro-registry/app/app-1");
    assertThat(created).isPositive();

    etcd.stop(0);
    link.cut();
    // long enough for gRPC to wait over 10 s between its own tries to reconnect, beyond the TTL
    holdsFor(Duration.ofSeconds(20), () -> assertThat(ids(a, "app")).containsExactly("app-1", "app-2"));
    etcd.restart(0);
    // an operator deletes one the moment etcd is back (which gives the lease a fresh TTL), before a can
    // reach it; a's link comes back just after a try of a's, the worst moment for a reconnection left
    // to gRPC's own wait
    etcd.etcdctl("del", "/micro-registry/app/app-2");
    int tries = link.refused();
    await().atMost(WAIT).until(() -> link.refused() > tries);
    link.restore();
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(a, "app")).containsExactly("app-1"));
    // the lease was renewed in time, so app-1 never left etcd (had the lease expired, app-1 would be
    // back but created anew, after others saw it go, and the expiry would have looked like the delete
    // of app-2, which a would then have undone); letting go of app-2 stopped no keep-alive of app-1's
    holdsFor(Duration.ofSeconds(6), () -> {
      assertThat(createdAt(etcd, "/micro-registry/app/app-1")).as("app-1's create revision").isEqualTo(created);
      assertThat(createdAt(etcd, "/micro-registry/app/app-2")).as("app-2, deleted on purpose").isZero();
    });
  }

  @Test
  void aPartitionedSidecarServesFromCacheAndReassertsRegistrationsThatExpiredMeanwhile() {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    TcpProxy link = own(TcpProxy.to(etcd.endpoint(0)));
    EtcdRegistry a = registry(List.of(link.address()), Duration.ofSeconds(2));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    a.registerOwn(service("app", "app-a", 1)).block(WAIT);
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "app")).containsExactly("app-a"));

    link.cut();
    // etcd expires a's lease, so everyone else stops seeing its node ...
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "app")).isEmpty());
    // ... while a still answers from its cache, never empty because of the outage
    assertThat(ids(a, "app")).containsExactly("app-a");

    link.restore();
    // a's own copy keeps its node through the re-listing that lacks it, until it is back in etcd
    List<RegistryEvent> seen = new CopyOnWriteArrayList<>();
    Disposable watching = a.watch().filter(e -> e.service().name().equals("app")).subscribe(seen::add);
    own(watching::dispose);
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "app")).containsExactly("app-a"));
    holdsFor(Duration.ofSeconds(3), () -> assertThat(ids(a, "app")).containsExactly("app-a"));
    assertThat(a.cacheAge()).isLessThan(Duration.ofSeconds(2));
    assertThat(seen).as("a's watchers saw its node neither go nor come back").isEmpty();
  }

  @Test
  void aRegistrationAnotherSidecarDeletesOnPurposeIsNotPutBack() throws Exception {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    TcpProxy link = own(TcpProxy.to(etcd.endpoint(0)));
    EtcdRegistry a = registry(List.of(link.address()), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    a.registerOwn(service("app", "app-a", 1)).block(WAIT);
    a.registerOwn(service("app", "app-b", 2)).block(WAIT);

    // deleted while a watches: a lets it go instead of keeping its lease's key
    b.deregister(service("app", "app-a", 1)).block(WAIT);
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(a, "app")).containsExactly("app-b"));
    // deleted while a is cut off for long enough to give up its watch: a's re-listing lacks it, its
    // lease (10 s) still lives, so it stays deleted
    link.cut();
    b.deregister(service("app", "app-b", 2)).block(WAIT);
    awaitRelisting(a);
    link.restore();
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(a, "app")).isEmpty());
    // another re-listing afterwards puts neither back
    link.cut();
    awaitRelisting(a);
    link.restore();
    await().atMost(WAIT).until(() -> a.cacheAge().compareTo(Duration.ofSeconds(1)) < 0);
    holdsFor(Duration.ofSeconds(4), () -> {
      assertThat(ids(a, "app")).isEmpty();
      assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/micro-registry/app/").strip()).isEmpty();
    });
    // its owner registering it again is a new decision, and it is written
    a.registerOwn(service("app", "app-b", 2)).block(WAIT);
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "app")).containsExactly("app-b"));
  }

  /** Waits, while {@code r} is cut off, until it has given up on its watch (stallAfter, 3 s): it re-lists when it is back. */
  private static void awaitRelisting(EtcdRegistry r) {
    await().atMost(WAIT).until(() -> r.cacheAge().compareTo(Duration.ofMillis(3500)) > 0);
  }

  @Test
  void aDeregistrationEtcdCouldNotConfirmLandsWhenItIsBack() throws Exception {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    TcpProxy link = own(TcpProxy.to(etcd.endpoint(0)));
    EtcdRegistry a = registry(List.of(link.address()), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    // two nodes on one lease, which the other keeps alive, and one key on no lease at all
    a.registerOwn(new Service("pair", "", null, null,
        List.of(new Node("pair-1", "127.0.0.1", 1, null), new Node("pair-2", "127.0.0.1", 2, null)))).block(WAIT);
    a.register(service("forever", "forever-1", 3), Registry.NO_TTL).block(WAIT);

    link.cut();
    assertThatThrownBy(() -> a.deregister(service("pair", "pair-1", 1)).block(WAIT)).isNotNull();
    assertThatThrownBy(() -> a.deregister(service("forever", "forever-1", 3)).block(WAIT)).isNotNull();
    link.restore();
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(ids(b, "pair")).containsExactly("pair-2");
      assertThat(ids(b, "forever")).isEmpty();
    });
    holdsFor(Duration.ofSeconds(3), () -> assertThat(ids(b, "pair")).containsExactly("pair-2"));
  }

  /**
   * Any client may deregister any key: during an outage, the retries a flood of deregistrations leaves
   * behind are bounded. Past the bound a failed deregistration (its caller was told) is not retried.
   */
  @Test
  void deregistrationsRetriedAfterAnOutageAreBounded() throws Exception {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    TcpProxy link = own(TcpProxy.to(etcd.endpoint(0)));
    EtcdRegistry a = own(EtcdRegistry.builder().endpoints(List.of(link.address())).defaultTtl(Duration.ofSeconds(10))
        .progressEvery(Duration.ofMillis(500)).stallAfter(Duration.ofSeconds(3)).retriedDeletes(2).build());
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    for (int i = 1; i <= 3; i++) {
      a.register(service("flood", "flood-" + i, i), Registry.NO_TTL).block(WAIT);
    }

    link.cut();
    for (int i = 1; i <= 3; i++) {
      int n = i;
      assertThatThrownBy(() -> a.deregister(service("flood", "flood-" + n, n)).block(WAIT)).isNotNull();
    }
    link.restore();
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "flood")).containsExactly("flood-3"));
    holdsFor(Duration.ofSeconds(3), () -> assertThat(ids(b, "flood")).containsExactly("flood-3"));
  }

  @Test
  void afterACompactionWhileDisconnectedTheCacheIsListedAgain() throws Exception {
    EtcdCluster etcd = own(EtcdCluster.start(1));
    TcpProxy link = own(TcpProxy.to(etcd.endpoint(0)));
    EtcdRegistry a = registry(List.of(link.address()), Duration.ofSeconds(30));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(30));
    b.registerOwn(service("gone", "gone-1", 1)).block(WAIT);
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(a, "gone")).containsExactly("gone-1"));

    link.cut();
    b.deregister(service("gone", "gone-1", 1)).block(WAIT);
    b.registerOwn(service("new", "new-1", 1)).block(WAIT);
    String status = etcd.etcdctl("endpoint", "status", "--write-out=fields");
    long revision = Long.parseLong(status.replaceAll("(?s).*\"Revision\" : (\\d+).*", "$1"));
    etcd.etcdctl("compaction", Long.toString(revision));
    link.restore();

    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(ids(a, "new")).containsExactly("new-1");
      assertThat(ids(a, "gone")).isEmpty();
    });
  }

  @Test
  void aThreeMemberClusterLosingOneMemberLosesNoLookupOrRegistration() {
    EtcdCluster etcd = own(EtcdCluster.start(3));
    EtcdRegistry a = registry(etcd.endpoints(), Duration.ofSeconds(10));
    EtcdRegistry b = registry(etcd.endpoints(), Duration.ofSeconds(10));
    await().atMost(WAIT).until(() -> a.ready() && b.ready());

    List<Throwable> failures = new CopyOnWriteArrayList<>();
    int registered = 0;
    for (int i = 0; i < 60; i++) {
      if (i == 10) {
        etcd.kill(0);
      }
      Service s = service("svc", "svc-" + i, i);
      try {
        a.registerOwn(s).block(WAIT);
        registered++;
        assertThat(ids(a, "svc")).contains("svc-" + i);
      } catch (RuntimeException e) {
        failures.add(e);
      }
    }
    assertThat(failures).isEmpty();
    assertThat(registered).isEqualTo(60);
    await().atMost(WAIT).untilAsserted(() -> assertThat(ids(b, "svc")).hasSize(60));
  }
}
