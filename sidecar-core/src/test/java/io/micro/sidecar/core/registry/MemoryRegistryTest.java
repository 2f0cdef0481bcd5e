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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

class MemoryRegistryTest {

  private final AtomicLong now = new AtomicLong(1_000);
  /** The sweep is effectively off: every expiry here is driven by the injected ticker. */
  private final Registry registry = Registry.memory(now::get, Duration.ofHours(1));
  private final BlockingQueue<RegistryEvent> events = new LinkedBlockingQueue<>();
  private final Disposable watching = registry.watch().subscribe(events::add);

  @AfterEach
  void close() {
    watching.dispose();
    registry.close();
  }

  private static Service service(String name, String version, String... ids) {
    return new Service(name, version, null, null,
        Arrays.stream(ids).map(id -> new Node(id, "127.0.0.1", 9000, null)).toList());
  }

  private List<Service> lookup(String name) {
    return registry.lookup(name).block(Duration.ofSeconds(1));
  }

  private RegistryEvent nextEvent() throws InterruptedException {
    RegistryEvent e = events.poll(1, TimeUnit.SECONDS);
    assertThat(e).as("an event").isNotNull();
    return e;
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void unknownServiceIsEmptyAndEmptyRegistryListsNothing() {
    assertThat(lookup("nope")).isEmpty();
    assertThat(registry.list().block(Duration.ofSeconds(1))).isEmpty();
  }

  @Test
  void registersAndFindsOneServicePerVersion() {
    registry.register(service("foo", "2.0", "foo-b"), Registry.NO_TTL).block();
    registry.register(service("foo", "1.0", "foo-a"), Registry.NO_TTL).block();
    registry.register(service("foo", "1.0", "foo-c"), Registry.NO_TTL).block();
    registry.register(service("bar", "", "bar-1"), Registry.NO_TTL).block();

    assertThat(lookup("foo")).extracting(Service::version).containsExactly("1.0", "2.0");
    assertThat(lookup("foo").get(0).nodes()).extracting(Node::id).containsExactly("foo-a", "foo-c");
    assertThat(registry.list().block()).extracting(Service::name).containsExactly("bar", "foo", "foo");
  }

  @Test
  void deregisterRemovesOnlyTheNamedNodesThenTheService() throws Exception {
    registry.register(service("foo", "", "foo-1", "foo-2"), Registry.NO_TTL).block();
    assertThat(nextEvent().action()).isEqualTo(RegistryEvent.Action.CREATE);

    registry.deregister(service("foo", "", "foo-1")).block();
    assertThat(lookup("foo").get(0).nodes()).extracting(Node::id).containsExactly("foo-2");
    RegistryEvent delete = nextEvent();
    assertThat(delete.action()).isEqualTo(RegistryEvent.Action.DELETE);
    assertThat(delete.service().nodes()).extracting(Node::id).containsExactly("foo-1");

    registry.deregister(service("foo", "", "foo-2")).block();
    assertThat(lookup("foo")).isEmpty();
    registry.deregister(service("foo", "", "foo-2")).block();
    assertThat(nextEvent().service().nodes()).extracting(Node::id).containsExactly("foo-2");
    assertThat(events).as("deregistering an unknown node changes nothing").isEmpty();
  }

  @Test
  void reRegisteringAnUnchangedNodeIsSilentButAChangeIsAnUpdate() throws Exception {
    registry.register(service("foo", "", "foo-1"), Registry.NO_TTL).block();
    assertThat(nextEvent().action()).isEqualTo(RegistryEvent.Action.CREATE);
    registry.register(service("foo", "", "foo-1"), Registry.NO_TTL).block();
    assertThat(events).isEmpty();

    Service moved = new Service("foo", "", Map.of("zone", "b"), null, List.of(new Node("foo-1", "10.0.0.2", 9001, null)));
    registry.register(moved, Registry.NO_TTL).block();
    RegistryEvent update = nextEvent();
    assertThat(update.action()).isEqualTo(RegistryEvent.Action.UPDATE);
    assertThat(update.service()).isEqualTo(moved);
    assertThat(lookup("foo")).containsExactly(moved);
  }

  @Test
  void aNodeExpiresAtItsTtlUnlessRegisteredAgain() throws Exception {
    registry.register(service("foo", "", "foo-1"), Duration.ofSeconds(10)).block();
    registry.register(service("foo", "", "foo-2"), Registry.NO_TTL).block();
    nextEvent();
    nextEvent();

    advance(Duration.ofSeconds(6));
    registry.register(service("foo", "", "foo-1"), Duration.ofSeconds(10)).block(); // heartbeat
    advance(Duration.ofSeconds(6));
    assertThat(lookup("foo").get(0).nodes()).extracting(Node::id).containsExactly("foo-1", "foo-2");

    advance(Duration.ofSeconds(4));
    assertThat(lookup("foo").get(0).nodes()).extracting(Node::id).containsExactly("foo-2");
    RegistryEvent expired = nextEvent();
    assertThat(expired.action()).isEqualTo(RegistryEvent.Action.DELETE);
    assertThat(expired.service().nodes()).extracting(Node::id).containsExactly("foo-1");
  }

  @Test
  void aServiceWhoseLastNodeExpiresIsGoneFromListToo() {
    registry.register(service("foo", "", "foo-1"), Duration.ofMillis(1500)).block();
    advance(Duration.ofMillis(1499));
    assertThat(registry.list().block()).hasSize(1);
    advance(Duration.ofMillis(1));
    assertThat(registry.list().block()).isEmpty();
    assertThat(lookup("foo")).isEmpty();
  }

  @Test
  void theBackgroundSweepTellsWatchersWithoutALookup() throws Exception {
    try (Registry swept = Registry.memory(now::get, Duration.ofMillis(5))) {
      BlockingQueue<RegistryEvent> seen = new LinkedBlockingQueue<>();
      Disposable d = swept.watch().subscribe(seen::add);
      swept.register(service("foo", "", "foo-1"), Duration.ofSeconds(1)).block();
      assertThat(seen.poll(1, TimeUnit.SECONDS).action()).isEqualTo(RegistryEvent.Action.CREATE);
      advance(Duration.ofSeconds(1));
      RegistryEvent e = seen.poll(2, TimeUnit.SECONDS);
      assertThat(e).isNotNull();
      assertThat(e.action()).isEqualTo(RegistryEvent.Action.DELETE);
      d.dispose();
    }
  }

  @Test
  void closeCompletesWatchers() {
    Registry r = Registry.memory();
    StepVerifier.create(r.watch())
        .then(r::close)
        .expectComplete()
        .verify(Duration.ofSeconds(2));
  }

  @Test
  void refusesAServiceWithoutNodes() {
    assertThatThrownBy(() -> registry.register(new Service("foo", "", null, null, null), Registry.NO_TTL).block())
        .isInstanceOf(InvalidServiceException.class);
  }
}
