package io.micro.sidecar.core.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/** The memory registry's own: TTLs on an injected ticker, the sweep; the rest is {@link MemoryRegistryContractTest}. */
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
  void aServicesNodeSetIsMadeWhenItsMembershipChangesNotPerLookup() {
    registry.register(service("foo", "2.0", "foo-b"), Registry.NO_TTL).block();
    registry.register(service("foo", "1.0", "foo-c", "foo-a"), Registry.NO_TTL).block();
    NodeSet nodes = registry.nodes("foo");
    assertThat(nodes.asList()).extracting(Node::id).as("versions in order, each version's nodes by id")
        .containsExactly("foo-a", "foo-c", "foo-b");
    assertThat(registry.nodes("foo")).isSameAs(nodes);

    registry.register(service("bar", "", "bar-1"), Registry.NO_TTL).block();
    registry.register(service("foo", "1.0", "foo-a"), Registry.NO_TTL).block();
    assertThat(registry.nodes("foo")).as("another service changed, and this one did not").isSameAs(nodes);

    registry.deregister(service("foo", "1.0", "foo-c")).block();
    assertThat(registry.nodes("foo").asList()).extracting(Node::id).containsExactly("foo-a", "foo-b");
    registry.register(service("foo", "2.0", "foo-d"), Duration.ofSeconds(5)).block();
    assertThat(registry.nodes("foo").asList()).extracting(Node::id).containsExactly("foo-a", "foo-b", "foo-d");
    advance(Duration.ofSeconds(6));
    assertThat(registry.nodes("foo").asList()).as("expired").extracting(Node::id).containsExactly("foo-a", "foo-b");
    assertThat(registry.nodes("nope")).isSameAs(NodeSet.EMPTY);
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
}
