package io.micro.sidecar.core.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.test.StepVerifier;

/**
 * What every broker promises (the {@link Broker} contract), run against each: the memory broker
 * ({@link SinkBrokerTest}) and the http broker on one sidecar ({@link HttpBrokerContractTest}), whose
 * messages to this sidecar's own subscribers take the same way as the memory broker's.
 */
abstract class BrokerContract {

  static final Duration WAIT = Duration.ofSeconds(5);

  private Broker broker;
  private final List<Disposable> subscriptions = new ArrayList<>();

  /** A new broker of the kind under test. */
  abstract Broker newBroker(BrokerConfig config);

  @BeforeEach
  void open() {
    broker = newBroker(BrokerConfig.DEFAULT);
  }

  /** Replaces the broker under test with one made with {@code config}. */
  private void use(BrokerConfig config) {
    broker.close();
    broker = newBroker(config);
  }

  @AfterEach
  void close() {
    subscriptions.forEach(Disposable::dispose);
    broker.close();
    closed();
  }

  /** After the broker under test closed: whatever else the test made goes too. */
  void closed() {
  }

  private static Message text(String body) {
    return Message.of(Map.of("Content-Type", "text/plain"), body.getBytes(StandardCharsets.UTF_8));
  }

  private static String body(Message m) {
    return new String(m.body(), StandardCharsets.UTF_8);
  }

  private void publish(String topic, String body) {
    broker.publish(topic, text(body)).block(WAIT);
  }

  /** A subscriber that asks for everything and records bodies in arrival order. */
  private List<String> collect(String topic, String queue) {
    List<String> got = new CopyOnWriteArrayList<>();
    subscriptions.add(broker.subscribe(topic, queue).subscribe(m -> got.add(body(m))));
    return got;
  }

  /** A subscriber that never asks for anything. */
  private Stalled stall(String topic, String queue) {
    Stalled s = new Stalled();
    broker.subscribe(topic, queue).subscribe(s);
    subscriptions.add(s);
    return s;
  }

  static final class Stalled extends BaseSubscriber<Message> {
    final List<String> got = new CopyOnWriteArrayList<>();
    final AtomicReference<Throwable> error = new AtomicReference<>();
    volatile boolean completed;

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
      // no demand
    }

    @Override
    protected void hookOnNext(Message value) {
      got.add(body(value));
    }

    @Override
    protected void hookOnError(Throwable throwable) {
      error.set(throwable);
    }

    @Override
    protected void hookOnComplete() {
      completed = true;
    }
  }

  private static List<String> numbered(int n) {
    List<String> all = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      all.add("m" + i);
    }
    return all;
  }

  @Test
  void everySubscriberGetsEveryMessageInOrderAndOtherTopicsNothing() {
    List<String> a = collect("foo", null);
    List<String> b = collect("foo", "");
    List<String> other = collect("bar", null);
    numbered(100).forEach(m -> publish("foo", m));
    assertThat(a).containsExactlyElementsOf(numbered(100));
    assertThat(b).containsExactlyElementsOf(numbered(100));
    assertThat(other).isEmpty();
  }

  @Test
  void messagesKeepTheirHeaderAndBody() {
    StepVerifier.create(broker.subscribe("foo", null).take(1))
        .then(() -> broker.publish("foo", Message.of(Map.of("Timestamp", "1499951537"), new byte[] {0, 1, 2})).block(WAIT))
        .assertNext(m -> {
          assertThat(m.header()).containsExactly(Map.entry("Timestamp", "1499951537"));
          assertThat(m.body()).containsExactly(0, 1, 2);
        })
        .expectComplete()
        .verify(WAIT);
  }

  @Test
  void aTopicWithoutSubscribersDropsTheMessageQuietly() {
    publish("nobody", "lost");
    assertThat(broker.stats()).isEqualTo(BrokerStats.EMPTY);
    List<String> late = collect("nobody", null);
    publish("nobody", "seen");
    assertThat(late).containsExactly("seen");
  }

  @Test
  void eachQueueGroupGetsEachMessageExactlyOnceInTurnWhilePlainSubscribersGetAll() {
    List<String> plain1 = collect("t", null);
    List<String> plain2 = collect("t", null);
    List<List<String>> a = List.of(collect("t", "a"), collect("t", "a"), collect("t", "a"));
    List<List<String>> b = List.of(collect("t", "b"), collect("t", "b"));
    numbered(300).forEach(m -> publish("t", m));

    assertThat(plain1).containsExactlyElementsOf(numbered(300));
    assertThat(plain2).containsExactlyElementsOf(numbered(300));
    for (List<List<String>> group : List.of(a, b)) {
      List<String> union = new ArrayList<>();
      group.forEach(union::addAll);
      assertThat(union).hasSize(300).containsExactlyInAnyOrderElementsOf(numbered(300));
    }
    // round-robin: member i of a group of n gets messages i, i+n, i+2n, ...
    assertThat(a.get(0)).startsWith("m0", "m3", "m6").hasSize(100);
    assertThat(a.get(1)).startsWith("m1", "m4", "m7").hasSize(100);
    assertThat(b.get(0)).startsWith("m0", "m2", "m4").hasSize(150);
    assertThat(b.get(1)).startsWith("m1", "m3", "m5").hasSize(150);
  }

  @Test
  void aQueueGroupPassesOverAFullMemberSoNothingIsDropped() {
    use(new BrokerConfig(4, BrokerConfig.Overflow.DROP_OLDEST));
    Stalled stuck = stall("t", "q");
    List<String> fast = collect("t", "q");
    numbered(100).forEach(m -> publish("t", m));

    assertThat(broker.stats("t").dropped()).isZero();
    assertThat(fast).hasSize(96);
    stuck.request(10);
    assertThat(stuck.got).containsExactly("m0", "m2", "m4", "m6");
    List<String> union = new ArrayList<>(fast);
    union.addAll(stuck.got);
    assertThat(union).containsExactlyInAnyOrderElementsOf(numbered(100));
  }

  @Test
  void manyPublisherThreadsLoseAndDuplicateNothing() throws Exception {
    List<String> plain = Collections.synchronizedList(new ArrayList<>());
    subscriptions.add(broker.subscribe("t", null).subscribe(m -> plain.add(body(m))));
    List<String> q1 = collect("t", "q");
    List<String> q2 = collect("t", "q");
    int threads = 8;
    int each = 5_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        done.add(pool.submit(() -> {
          go.await();
          for (int i = 0; i < each; i++) {
            broker.publish("t", text(thread + "-" + i)).block(WAIT);
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    int total = threads * each;
    assertThat(plain).hasSize(total).doesNotHaveDuplicates();
    assertThat(q1.size() + q2.size()).isEqualTo(total);
    Set<String> union = new HashSet<>(q1);
    union.addAll(q2);
    assertThat(union).hasSize(total).containsExactlyInAnyOrderElementsOf(new HashSet<>(plain));
    // each thread's messages arrive in the order that thread published them
    for (int t = 0; t < threads; t++) {
      String prefix = t + "-";
      assertThat(plain.stream().filter(s -> s.startsWith(prefix)).map(s -> Integer.parseInt(s.substring(prefix.length()))))
          .isSorted();
    }
    assertThat(broker.stats().dropped()).isZero();
  }

  @Test
  void aStalledSubscriberKeepsOnlyItsNewestMessagesAndDoesNotHoldUpOthers() {
    use(new BrokerConfig(16, BrokerConfig.Overflow.DROP_OLDEST));
    Stalled stuck = stall("t", null);
    List<String> fast = collect("t", null);
    numbered(1000).forEach(m -> publish("t", m));

    assertThat(fast).containsExactlyElementsOf(numbered(1000));
    BrokerStats topic = broker.stats("t");
    assertThat(topic.subscribers()).isEqualTo(2);
    assertThat(topic.buffered()).isEqualTo(16);
    assertThat(topic.dropped()).isEqualTo(1000 - 16);
    assertThat(broker.stats().dropped()).isEqualTo(1000 - 16);

    stuck.request(Long.MAX_VALUE);
    assertThat(stuck.got).containsExactlyElementsOf(numbered(1000).subList(1000 - 16, 1000));
    assertThat(broker.stats("t").buffered()).isZero();
    publish("t", "after");
    assertThat(stuck.got).endsWith("after");
  }

  @Test
  void underTheClosePolicyAnOverflowingSubscriberEndsWithSlowSubscriberException() {
    use(new BrokerConfig(8, BrokerConfig.Overflow.CLOSE));
    Stalled stuck = stall("t", null);
    List<String> fast = collect("t", null);
    numbered(8).forEach(m -> publish("t", m));
    assertThat(stuck.error.get()).isNull();
    assertThat(broker.stats("t").buffered()).isEqualTo(8);

    publish("t", "one too many");
    assertThat(stuck.error.get()).isInstanceOf(SlowSubscriberException.class)
        .hasMessage("subscriber: more than 8 messages behind on topic t (expected: a subscriber that keeps up)");
    assertThat(broker.stats("t").subscribers()).isEqualTo(1);
    // the 8 it held and the one that did not fit
    assertThat(broker.stats().dropped()).isEqualTo(9);
    publish("t", "still flowing");
    assertThat(fast).hasSize(10).endsWith("one too many", "still flowing");
  }

  @Test
  void underTheClosePolicyAGroupEndsOnlyMembersThatAreFullAndKeepsDelivering() {
    use(new BrokerConfig(2, BrokerConfig.Overflow.CLOSE));
    Stalled stuck = stall("t", "q");
    List<String> fast = collect("t", "q");
    numbered(50).forEach(m -> publish("t", m));
    // the stalled member took its turns until full and was passed over after, never ended
    assertThat(stuck.error.get()).isNull();
    assertThat(fast).hasSize(48);
    assertThat(broker.stats("t").dropped()).isZero();

    Stalled second = stall("u", "q");
    Stalled third = stall("u", "q");
    numbered(5).forEach(m -> publish("u", m));
    // both full after four; the fifth ends the one in turn, then the other, and is lost once
    assertThat(second.error.get()).isInstanceOf(SlowSubscriberException.class);
    assertThat(third.error.get()).isInstanceOf(SlowSubscriberException.class);
    assertThat(broker.stats("u")).isEqualTo(BrokerStats.EMPTY);
    assertThat(broker.stats().dropped()).isEqualTo(4 + 1);
  }

  @Test
  void theLastSubscriberToLeaveRemovesTheTopicAndItsGroups() {
    Disposable plain = broker.subscribe("t", null).subscribe();
    Disposable member = broker.subscribe("t", "q").subscribe();
    Disposable elsewhere = broker.subscribe("u", "q").subscribe();
    assertThat(broker.stats()).isEqualTo(new BrokerStats(2, 3, 0, 0));
    assertThat(broker.stats("t").subscribers()).isEqualTo(2);

    plain.dispose();
    assertThat(broker.stats("t").subscribers()).isEqualTo(1);
    member.dispose();
    assertThat(broker.stats("t")).isEqualTo(BrokerStats.EMPTY);
    assertThat(broker.stats().topics()).isEqualTo(1);
    elsewhere.dispose();
    assertThat(broker.stats()).isEqualTo(BrokerStats.EMPTY);

    // the topic and the group come back with a new subscriber
    List<String> back = collect("t", "q");
    publish("t", "again");
    assertThat(back).containsExactly("again");
  }

  @Test
  void aSubscriberThatLeavesWhileReceivingLeavesCleanly() {
    List<String> rest = collect("t", null);
    StepVerifier.create(broker.subscribe("t", null).take(3))
        .then(() -> numbered(10).forEach(m -> publish("t", m)))
        .expectNextCount(3)
        .expectComplete()
        .verify(WAIT);
    assertThat(broker.stats("t").subscribers()).isEqualTo(1);
    assertThat(rest).hasSize(10);
  }

  @Test
  void closeCompletesEverySubscriberAndRefusesPublishing() {
    Stalled stuck = stall("t", null);
    StepVerifier.create(broker.subscribe("t", "q"))
        .then(broker::close)
        .expectComplete()
        .verify(WAIT);
    stuck.request(1);
    assertThat(stuck.completed).isTrue();
    assertThat(broker.stats()).isEqualTo(BrokerStats.EMPTY);
    StepVerifier.create(broker.publish("t", text("late")))
        .expectErrorMessage("broker: closed (expected: a running sidecar)")
        .verify(WAIT);
    StepVerifier.create(broker.subscribe("t", null)).expectComplete().verify(WAIT);
  }

  @Test
  void anEmptyTopicIsRefused() {
    StepVerifier.create(broker.publish("", text("x")))
        .expectErrorMessage("topic: empty (expected: 1 to 200 characters, no control characters)")
        .verify(WAIT);
    StepVerifier.create(broker.subscribe(null, null))
        .expectErrorMessage("topic: empty (expected: 1 to 200 characters, no control characters)")
        .verify(WAIT);
  }

  @Test
  void hierarchicalTopicNamesAreTopicsLikeAnyOther() {
    List<String> telemetry = collect("devices/42/telemetry", null);
    List<String> spaced = collect("room one", null);
    List<String> parent = collect("devices/42", null);
    publish("devices/42/telemetry", "t");
    publish("room one", "r");
    assertThat(telemetry).containsExactly("t");
    assertThat(spaced).containsExactly("r");
    assertThat(parent).isEmpty();
    StepVerifier.create(broker.publish("a".repeat(Broker.MAX_TOPIC + 1), text("x")))
        .expectErrorMessage("topic: invalid (expected: 1 to 200 characters, no control characters)")
        .verify(WAIT);
    StepVerifier.create(broker.publish("line\nbreak", text("x")))
        .expectErrorMessage("topic: invalid (expected: 1 to 200 characters, no control characters)")
        .verify(WAIT);
  }

  @Test
  void publishedCountsEveryMessageAndDeliveredEachOneASubscriberGot() {
    collect("t", null);
    collect("t", null);
    collect("t", "q");
    collect("t", "q");
    numbered(3).forEach(m -> publish("t", m));
    publish("nobody", "lost");
    assertThat(broker.published()).isEqualTo(4);
    // two plain subscribers and one member of q, for each of the three
    assertThat(broker.delivered()).isEqualTo(9);
    assertThat(broker.topics()).containsOnlyKeys("t");
    assertThat(broker.stats("t").subscribers()).isEqualTo(4);
  }

  /** A receiver that takes everything and records it, and whether the broker told it it closed. */
  static final class Recording implements Broker.Receiver {
    final List<String> got = new CopyOnWriteArrayList<>();
    volatile boolean closed;

    @Override
    public boolean offer(Message message) {
      return got.add(body(message));
    }

    @Override
    public boolean full() {
      return false;
    }

    @Override
    public long queued() {
      return 0;
    }

    @Override
    public void closed() {
      closed = true;
    }
  }

  @Test
  void anAttachedReceiverIsOfferedEachMessageInOrderUntilItLeaves() {
    Recording r = new Recording();
    Broker.Subscription s = broker.attach("t", null, r);
    List<String> other = collect("t", null);
    numbered(20).forEach(m -> publish("t", m));
    assertThat(r.got).containsExactlyElementsOf(numbered(20));
    s.leave();
    s.leave();
    publish("t", "after");
    assertThat(r.got).hasSize(20);
    assertThat(other).endsWith("after");
    assertThat(broker.stats("t").subscribers()).isEqualTo(1);
    assertThat(r.closed).isFalse();
  }

  @Test
  void aReceiverAttachedWhenTheBrokerClosesIsTold() {
    Recording r = new Recording();
    broker.attach("t", "q", r);
    broker.close();
    assertThat(r.closed).isTrue();
  }
}
