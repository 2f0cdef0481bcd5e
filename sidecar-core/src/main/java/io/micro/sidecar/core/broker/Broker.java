package io.micro.sidecar.core.broker;

import io.micro.sidecar.core.registry.ServiceCodec;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Publish/subscribe by topic (contract §7), with go-micro's semantics: every subscriber of a topic
 * gets every message, except subscribers sharing a queue name, who compete so that each message goes
 * to exactly one of them.
 *
 * <p>Threading: any thread may publish and subscribe. A slow subscriber never slows the publisher or
 * other subscribers: each has its own buffer of {@link BrokerConfig#bufferSize()} messages and its
 * overflow is handled by {@link BrokerConfig#overflow()}. Nothing blocks, except that publishers of
 * one topic take turns (see {@link #memory}).
 *
 * <p>Ownership: the broker owns its subscribers' buffers; {@link #close()} completes every subscriber.
 */
public interface Broker extends AutoCloseable {

  /**
   * The in-process broker. Publishing to a topic takes that topic's lock for the time it takes to
   * offer the message to each subscriber's buffer, which never waits on a subscriber.
   */
  static Broker memory(BrokerConfig config) {
    return new SinkBroker(config);
  }

  /**
   * Offers {@code message} to every subscriber of {@code topic} (one member per queue group) when
   * subscribed to. Completes once it is in their buffers; a topic without subscribers drops it.
   * Errors with {@link IllegalStateException} once the broker is closed.
   */
  Mono<Void> publish(String topic, Message message);

  /**
   * The messages published to {@code topic} from the moment of subscription. With a non-empty
   * {@code queue}, this subscriber shares the topic's messages with the other members of that queue
   * group. Cancelling leaves the topic; the last subscriber to leave removes it. Completes when the
   * broker closes; errors with {@link SlowSubscriberException} on overflow under
   * {@link BrokerConfig.Overflow#CLOSE}.
   *
   * @param queue the queue group, or null (or empty) for none
   */
  Flux<Message> subscribe(String topic, String queue);

  /**
   * Attaches {@code receiver} to {@code topic} (sharing it with {@code queue}'s members when given)
   * until {@link Subscription#leave()}: the broker offers it each message on the publisher's thread,
   * with no Flux in between. How the WebSocket subscribers are served: they queue messages for their
   * socket and answer for their own pending bytes. Joins before returning, so nothing published after
   * this returns is missed. On a closed broker the receiver is told at once.
   *
   * @param queue the queue group, or null (or empty) for none
   */
  Subscription attach(String topic, String queue, Receiver receiver);

  /** Counters over every topic. */
  BrokerStats stats();

  /** Counters of one topic; {@link BrokerStats#EMPTY} when it has no subscribers. */
  BrokerStats stats(String topic);

  /** Counters of every topic with subscribers, by topic name; a snapshot. */
  default Map<String, BrokerStats> topics() {
    return Map.of();
  }

  /** Messages published since the broker started, topics without subscribers included. */
  default long published() {
    return 0;
  }

  /** Messages handed to subscribers since the broker started (one per subscriber that got it). */
  default long delivered() {
    return 0;
  }

  /** Longest topic (and queue) name. */
  int MAX_TOPIC = ServiceCodec.MAX_TOPIC;

  /**
   * True for a topic or queue name as the original took it (contract §7): 1 to {@value #MAX_TOPIC}
   * characters, no control characters; {@code devices/42/telemetry} is one.
   */
  static boolean validTopic(String name) {
    // the registry holds the rule: with --broker=http a topic is part of a service name there
    return ServiceCodec.validTopic(name);
  }

  /**
   * {@code topic} when it is {@link #validTopic valid}.
   *
   * @throws IllegalArgumentException naming the rule, for a name that is not
   */
  static String requireTopic(String topic) {
    if (!validTopic(topic)) {
      throw new IllegalArgumentException("topic: " + (topic == null || topic.isEmpty() ? "empty" : "invalid")
          + " (expected: 1 to " + MAX_TOPIC + " characters, no control characters)");
    }
    return topic;
  }

  /** Deliveries to other sidecars ({@code --broker=http}); empty for a broker that has no peers. */
  default Optional<PeerStats> peers() {
    return Optional.empty();
  }

  /**
   * A subscriber that takes messages straight from the broker ({@link #attach}). Called on the
   * publisher's thread, under the topic's lock, one message at a time and in order; must not block.
   */
  interface Receiver {

    /** Takes one message; false if this receiver has gone and did not take it. */
    boolean offer(Message message);

    /** True while past its pending limit: a queue group passes it over while another member has room. */
    boolean full();

    /** Messages taken and not yet written to the subscriber, for {@link BrokerStats#buffered()}. */
    long queued();

    /** The broker closed: no more messages will come. */
    void closed();
  }

  /** What a {@link Receiver} tells the broker back, and how it leaves. Thread-safe. */
  interface Subscription {

    /** The receiver lost {@code count} messages it had taken (counted in {@link BrokerStats#dropped()}). */
    void dropped(long count);

    /** The receiver was cut off for falling behind (counted in {@link BrokerStats#cut()}). */
    void cut();

    /** Leaves the topic; idempotent. */
    void leave();
  }

  /** Completes every subscriber and refuses further publishing. Idempotent; does not block. */
  @Override
  void close();
}
