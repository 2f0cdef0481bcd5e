package io.micro.sidecar.core.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/**
 * What every registry promises (the {@link Registry} contract), run against each: the memory registry
 * ({@link MemoryRegistryContractTest}) and the etcd registry on a real etcd
 * ({@code EtcdRegistryContractIT}). What a registry sees of its own writes, it sees when the write
 * completes (the etcd registry waits for its watch to catch up), so nothing here waits for a lookup.
 * Names are unique per test, so that registries sharing one etcd do not see each other's.
 */
public abstract class RegistryContract {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger TESTS = new AtomicInteger();

  private Registry registry;
  private final BlockingQueue<RegistryEvent> events = new LinkedBlockingQueue<>();
  private Disposable watching;
  private String prefix;

  /** A new registry of the kind under test. */
  protected abstract Registry open();

  /** Returns once {@code registry} answers from what its store holds (the etcd registry: listed once). */
  protected void awaitReady(Registry registry) {
  }

  @BeforeEach
  void start() {
    prefix = "t" + TESTS.incrementAndGet() + "-" + Long.toHexString(System.nanoTime()) + "-";
    registry = open();
    awaitReady(registry);
    // this test's own: a registry that starts on a shared store tells of what other tests left there
    watching = registry.watch().filter(e -> e.service().name().startsWith(prefix)).subscribe(events::add);
  }

  @AfterEach
  void stop() {
    watching.dispose();
    registry.close();
  }

  /** {@code base} made unique to this test. */
  private String name(String base) {
    return prefix + base;
  }

  private Service service(String base, String version, String... ids) {
    return new Service(name(base), version, null, null,
        Arrays.stream(ids).map(id -> new Node(prefix + id, "127.0.0.1", 9000, null)).toList());
  }

  private void register(Service s) {
    registry.register(s, Registry.NO_TTL).block(WAIT);
  }

  private void deregister(Service s) {
    registry.deregister(s).block(WAIT);
  }

  private List<Service> lookup(String base) {
    return registry.lookup(name(base)).block(WAIT);
  }

  private List<String> ids(List<Node> nodes) {
    return nodes.stream().map(n -> n.id().substring(prefix.length())).toList();
  }

  private RegistryEvent nextEvent() throws InterruptedException {
    RegistryEvent e = events.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(e).as("an event").isNotNull();
    return e;
  }

  /** The next event is the creation of a probe registered now: nothing came between. */
  private void nothingElseHappened() throws InterruptedException {
    register(service("probe", "", "probe-1"));
    RegistryEvent e = nextEvent();
    assertThat(e.service().name()).as("the probe's, nothing before it: %s", e).isEqualTo(name("probe"));
    assertThat(e.action()).isEqualTo(RegistryEvent.Action.CREATE);
  }

  @Test
  void anUnknownServiceIsEmpty() {
    assertThat(lookup("nope")).isEmpty();
    assertThat(registry.find(name("nope"))).isEmpty();
    assertThat(registry.nodes(name("nope")).isEmpty()).isTrue();
    assertThat(registry.list().block(WAIT)).noneMatch(s -> s.name().startsWith(prefix));
  }

  @Test
  void aServiceIsAnsweredOnePerVersionSortedWithItsNodesSortedById() {
    register(service("foo", "2.0", "foo-b"));
    register(service("foo", "1.0", "foo-c"));
    register(service("foo", "1.0", "foo-a"));
    register(service("bar", "", "bar-1"));

    assertThat(lookup("foo")).extracting(Service::version).containsExactly("1.0", "2.0");
    assertThat(ids(lookup("foo").get(0).nodes())).containsExactly("foo-a", "foo-c");
    assertThat(registry.find(name("foo"))).isEqualTo(lookup("foo"));
    assertThat(registry.list().block(WAIT)).filteredOn(s -> s.name().startsWith(prefix))
        .extracting(Service::name).containsExactly(name("bar"), name("foo"), name("foo"));
  }

  @Test
  void aNodeSetIsTheServicesNodesMadeWhenTheyChange() {
    register(service("foo", "2.0", "foo-b"));
    register(service("foo", "1.0", "foo-c"));
    register(service("foo", "1.0", "foo-a"));
    NodeSet nodes = registry.nodes(name("foo"));
    assertThat(ids(nodes.asList())).as("versions in order, each one's nodes by id")
        .containsExactly("foo-a", "foo-c", "foo-b");
    register(service("bar", "", "bar-1"));
    assertThat(registry.nodes(name("foo"))).as("until they change").isSameAs(nodes);

    deregister(service("foo", "1.0", "foo-c"));
    assertThat(ids(registry.nodes(name("foo")).asList())).containsExactly("foo-a", "foo-b");
  }

  @Test
  void deregisteringRemovesOnlyTheNamedNodesThenTheService() throws Exception {
    register(service("foo", "", "foo-1"));
    register(service("foo", "", "foo-2"));
    assertThat(nextEvent().action()).isEqualTo(RegistryEvent.Action.CREATE);
    assertThat(nextEvent().action()).isEqualTo(RegistryEvent.Action.CREATE);

    deregister(service("foo", "", "foo-1"));
    assertThat(ids(lookup("foo").get(0).nodes())).containsExactly("foo-2");
    RegistryEvent delete = nextEvent();
    assertThat(delete.action()).isEqualTo(RegistryEvent.Action.DELETE);
    assertThat(ids(delete.service().nodes())).containsExactly("foo-1");

    deregister(service("foo", "", "foo-2"));
    assertThat(lookup("foo")).isEmpty();
    assertThat(ids(nextEvent().service().nodes())).containsExactly("foo-2");
    deregister(service("foo", "", "foo-2"));
    nothingElseHappened();
  }

  @Test
  void registeringAnUnchangedNodeAgainIsSilentButAChangeIsAnUpdate() throws Exception {
    register(service("foo", "", "foo-1"));
    assertThat(nextEvent().action()).isEqualTo(RegistryEvent.Action.CREATE);
    register(service("foo", "", "foo-1"));
    nothingElseHappened();

    Service moved = new Service(name("foo"), "", Map.of("zone", "b"), null,
        List.of(new Node(prefix + "foo-1", "10.0.0.2", 9001, null)));
    register(moved);
    RegistryEvent update = nextEvent();
    assertThat(update.action()).isEqualTo(RegistryEvent.Action.UPDATE);
    assertThat(update.service()).isEqualTo(moved);
    assertThat(lookup("foo")).containsExactly(moved);
  }

  @Test
  void aServiceWithoutNodesIsRefused() {
    assertThatThrownBy(() -> registry.register(new Service(name("foo"), "", null, null, null), Registry.NO_TTL)
        .block(WAIT)).isInstanceOf(InvalidServiceException.class);
    assertThat(lookup("foo")).isEmpty();
  }

  @Test
  void closingCompletesWatchers() {
    Registry other = open();
    StepVerifier.create(other.watch())
        .then(other::close)
        // what it found in a shared store when it started, if it had not told of it yet
        .thenConsumeWhile(e -> true)
        .expectComplete()
        .verify(WAIT);
  }
}
