package io.micro.sidecar.core.broker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The in-process broker: one unicast sink per subscriber, each behind its own bounded
 * {@code onBackpressureBuffer}, so a subscriber that stops asking only fills its own buffer.
 *
 * <p>Two locks per topic, always taken in this order when both are needed:
 * <ul>
 *   <li>the topic's {@code emitLock} serialises everything that signals its subscribers' sinks
 *       (publish and close), which is what Reactor sinks require. A subscriber with demand receives
 *       its message on the publisher's thread while the lock is held, so subscribers must not block in
 *       {@code onNext} — reactor-netty's send only queues and hops to the channel's event loop.</li>
 *   <li>the {@link ConcurrentHashMap} bin of the topic's name serialises joining and leaving, and
 *       removes the topic atomically with its last subscriber. A subscriber may leave from inside
 *       {@code onNext} (under the emit lock); joining and leaving never take the emit lock, so that
 *       cannot deadlock.</li>
 * </ul>
 *
 * <p>Over 300 lines on purpose: topics, queue groups, Flux subscribers and receivers live under those two
 * locks together, and the locking rules above hold only if every path that touches them is in view.
 */
final class SinkBroker implements Broker {

  private static final Predicate<String> ALL_GROUPS = queue -> true;

  private final BrokerConfig config;
  private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder cut = new LongAdder();
  private final LongAdder published = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private volatile boolean closed;

  SinkBroker(BrokerConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  @Override
  public Mono<Void> publish(String topic, Message message) {
    return Mono.fromRunnable(() -> {
      String name = Broker.requireTopic(topic);
      Objects.requireNonNull(message, "message");
      if (closed) {
        throw new IllegalStateException("broker: closed (expected: a running sidecar)");
      }
      published.increment();
      Topic t = topics.get(name);
      if (t != null) {
        t.publish(message, true, ALL_GROUPS);
      }
    });
  }

  /**
   * Offers {@code message} now, on the caller's thread, to the plain subscribers of {@code topic} if
   * {@code plain}, and to one member of each of its queue groups that {@code groups} accepts: the
   * {@link HttpBroker} delivers here the share of a message that falls to this sidecar.
   *
   * @return false if the broker is closed
   */
  boolean deliver(String topic, Message message, boolean plain, Predicate<String> groups) {
    if (closed) {
      return false;
    }
    Topic t = topics.get(Broker.requireTopic(topic));
    if (t != null) {
      t.publish(message, plain, groups);
    }
    return true;
  }

  /** The queue groups of {@code topic} that have members right now. */
  Set<String> queues(String topic) {
    Topic t = topics.get(Broker.requireTopic(topic));
    return t == null ? Set.of() : t.members.groups.keySet();
  }

  @Override
  public Flux<Message> subscribe(String topic, String queue) {
    return Flux.defer(() -> {
      Subscriber s = new Subscriber(Broker.requireTopic(topic), queue == null || queue.isEmpty() ? null : queue, null);
      Flux<Message> messages = (s.close
          // Under CLOSE the buffer never overflows (offer ends the subscriber first); without an
          // overflow callback it passes that error on at once instead of after what it holds.
          ? s.sink.asFlux().onBackpressureBuffer(config.bufferSize(), BufferOverflowStrategy.DROP_OLDEST)
          : s.sink.asFlux().onBackpressureBuffer(config.bufferSize(), s::overflowed, BufferOverflowStrategy.DROP_OLDEST))
          .doOnNext(m -> {
            s.delivered.incrementAndGet();
            delivered.increment();
          });
      // Joins once downstream holds the subscription and before the buffer asks the sink for
      // anything, so nothing published after subscribe() returns is missed.
      return messages.doOnSubscribe(ignored -> join(s)).doFinally(ignored -> leave(s));
    });
  }

  @Override
  public Subscription attach(String topic, String queue, Receiver receiver) {
    Subscriber s = new Subscriber(Broker.requireTopic(topic), queue == null || queue.isEmpty() ? null : queue,
        Objects.requireNonNull(receiver, "receiver"));
    join(s);
    return new Subscription() {
      private final AtomicBoolean left = new AtomicBoolean();

      @Override
      public void dropped(long count) {
        s.dropped(count);
      }

      @Override
      public void cut() {
        s.topic.cut.incrementAndGet();
        cut.increment();
      }

      @Override
      public void leave() {
        if (left.compareAndSet(false, true)) {
          SinkBroker.this.leave(s);
        }
      }
    };
  }

  @Override
  public BrokerStats stats() {
    int count = 0;
    int subscribers = 0;
    long buffered = 0;
    for (Topic t : topics.values()) {
      count++;
      for (Subscriber s : t.members.all) {
        subscribers++;
        buffered += s.buffered();
      }
    }
    return new BrokerStats(count, subscribers, buffered, dropped.sum(), cut.sum());
  }

  @Override
  public BrokerStats stats(String topic) {
    Topic t = topics.get(Broker.requireTopic(topic));
    if (t == null) {
      return BrokerStats.EMPTY;
    }
    List<Subscriber> all = t.members.all;
    return new BrokerStats(1, all.size(), all.stream().mapToLong(Subscriber::buffered).sum(), t.dropped.get(), t.cut.get());
  }

  @Override
  public Map<String, BrokerStats> topics() {
    Map<String, BrokerStats> out = new TreeMap<>();
    for (Map.Entry<String, Topic> e : topics.entrySet()) {
      List<Subscriber> all = e.getValue().members.all;
      if (!all.isEmpty()) {
        out.put(e.getKey(), new BrokerStats(1, all.size(), all.stream().mapToLong(Subscriber::buffered).sum(),
            e.getValue().dropped.get(), e.getValue().cut.get()));
      }
    }
    return out;
  }

  @Override
  public long published() {
    return published.sum();
  }

  @Override
  public long delivered() {
    return delivered.sum();
  }

  @Override
  public void close() {
    closed = true;
    topics.values().forEach(Topic::completeAll);
  }

  private void join(Subscriber s) {
    topics.compute(s.topicName, (name, t) -> {
      Topic topic = t == null ? new Topic() : t;
      s.topic = topic; // before publishers can see it
      topic.members = topic.members.with(s);
      return topic;
    });
    // close() sets the flag before it walks the topics: either it saw this subscriber or we see the flag.
    if (closed) {
      s.topic.completeAll();
    }
  }

  private void leave(Subscriber s) {
    topics.computeIfPresent(s.topicName, (name, t) -> {
      t.members = t.members.without(s);
      return t.members.all.isEmpty() ? null : t;
    });
  }

  /** One topic's subscribers; removed from the map with its last one and never reused after. */
  private final class Topic {
    private final Object emitLock = new Object();
    /** Replaced whole, only inside the map's compute for this topic. */
    private volatile Members members = Members.EMPTY;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong cut = new AtomicLong();

    void publish(Message message, boolean plain, Predicate<String> groups) {
      synchronized (emitLock) {
        Members m = members;
        if (plain) {
          for (Subscriber s : m.plain) {
            if (s.offer(message) == Offer.OVERFLOWED) {
              dropped(1);
            }
          }
        }
        for (Map.Entry<String, Group> g : m.groups.entrySet()) {
          if (groups.test(g.getKey()) && g.getValue().deliver(message)) {
            dropped(1);
          }
        }
      }
    }

    void dropped(long count) {
      dropped.addAndGet(count);
      SinkBroker.this.dropped.add(count);
    }

    void completeAll() {
      synchronized (emitLock) {
        for (Subscriber s : members.all) {
          if (s.receiver != null) {
            s.receiver.closed();
          } else {
            s.sink.tryEmitComplete();
          }
        }
      }
    }
  }

  /** A consistent, immutable view of a topic's subscribers. */
  private record Members(List<Subscriber> all, List<Subscriber> plain, Map<String, Group> groups) {

    static final Members EMPTY = new Members(List.of(), List.of(), Map.of());

    Members with(Subscriber s) {
      List<Subscriber> everyone = append(all, s);
      if (s.queue == null) {
        return new Members(everyone, append(plain, s), groups);
      }
      Map<String, Group> g = new LinkedHashMap<>(groups);
      Group old = g.get(s.queue);
      g.put(s.queue, new Group(append(old == null ? List.of() : old.members, s), old == null ? 0 : old.next));
      return new Members(everyone, plain, Collections.unmodifiableMap(g));
    }

    Members without(Subscriber s) {
      List<Subscriber> everyone = remove(all, s);
      if (s.queue == null) {
        return new Members(everyone, remove(plain, s), groups);
      }
      Map<String, Group> g = new LinkedHashMap<>(groups);
      Group old = g.get(s.queue);
      if (old != null) {
        List<Subscriber> left = remove(old.members, s);
        if (left.isEmpty()) {
          g.remove(s.queue);
        } else {
          g.put(s.queue, new Group(left, old.next % left.size()));
        }
      }
      return new Members(everyone, plain, Collections.unmodifiableMap(g));
    }

    private static List<Subscriber> append(List<Subscriber> list, Subscriber s) {
      List<Subscriber> copy = new ArrayList<>(list.size() + 1);
      copy.addAll(list);
      copy.add(s);
      return List.copyOf(copy);
    }

    private static List<Subscriber> remove(List<Subscriber> list, Subscriber s) {
      List<Subscriber> copy = new ArrayList<>(list);
      copy.remove(s);
      return List.copyOf(copy);
    }
  }

  /** Subscribers sharing a queue name on a topic; each message goes to exactly one of them. */
  private static final class Group {
    private final List<Subscriber> members;
    /**
     * The next member in turn. Written only under the topic's emit lock; copied unguarded into a
     * replacement group when membership changes, which at worst shifts whose turn it is.
     */
    private int next;

    Group(List<Subscriber> members, int next) {
      this.members = members;
      this.next = next;
    }

    /**
     * Hands the message to one member, in turn, passing over members whose buffer is full while
     * another has room, and members that have just left or failed. Caller holds the emit lock.
     *
     * @return true if every member refused it for overflowing (CLOSE), so the message is lost
     */
    boolean deliver(Message message) {
      int n = members.size();
      for (int i = 0; i < n; i++) {
        int at = (next + i) % n;
        Subscriber s = members.get(at);
        if (s.hasRoom() && s.offer(message) == Offer.TAKEN) {
          next = (at + 1) % n;
          return false;
        }
      }
      // Everyone is full: the next in turn takes it and applies the overflow policy.
      boolean overflowed = false;
      for (int i = 0; i < n; i++) {
        int at = (next + i) % n;
        Offer offer = members.get(at).offer(message);
        if (offer == Offer.TAKEN) {
          next = (at + 1) % n;
          return false;
        }
        overflowed |= offer == Offer.OVERFLOWED;
      }
      return overflowed;
    }
  }

  private enum Offer { TAKEN, OVERFLOWED, GONE }

  /**
   * One subscription: its sink and the counters that say how far behind it is, or an attached
   * {@link Receiver} that keeps its own.
   */
  private final class Subscriber {
    private final String topicName;
    private final String queue;
    /** Null for a Flux subscriber. */
    private final Receiver receiver;
    /**
     * Signalled only under the topic's emit lock, so the unsafe (unchecked) sink is enough. Its own
     * queue stays empty: the bounded buffer behind it asks for everything as soon as it subscribes.
     */
    private final Sinks.Many<Message> sink = Sinks.unsafe().many().unicast().onBackpressureBuffer();
    private final boolean close = config.overflow() == BrokerConfig.Overflow.CLOSE;
    private final int bufferSize = config.bufferSize();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    /** Set when joining, before any message can reach this subscriber. */
    private volatile Topic topic;

    Subscriber(String topicName, String queue, Receiver receiver) {
      this.topicName = topicName;
      this.queue = queue;
      this.receiver = receiver;
    }

    boolean hasRoom() {
      return receiver != null ? !receiver.full() : buffered() < bufferSize;
    }

    /**
     * Offers a message to this subscriber's buffer; false if it did not take it (it has left, or has
     * just been ended for overflowing under CLOSE). Caller holds the topic's emit lock.
     */
    Offer offer(Message message) {
      if (receiver != null) {
        if (!receiver.offer(message)) {
          return Offer.GONE;
        }
        delivered.incrementAndGet();
        SinkBroker.this.delivered.increment();
        return Offer.TAKEN;
      }
      if (close && buffered() >= bufferSize) {
        // Decided here rather than by the buffer's ERROR strategy, which delivers the error only after
        // the buffered messages: a subscriber that stopped asking must hear it now. What it held is
        // lost; the caller counts the refused message unless someone else takes it.
        dropped(buffered());
        sink.tryEmitError(new SlowSubscriberException(topicName, bufferSize));
        return Offer.OVERFLOWED;
      }
      // Counted before emitting: a subscriber with demand receives it within tryEmitNext.
      accepted.incrementAndGet();
      if (sink.tryEmitNext(message).isFailure()) {
        accepted.decrementAndGet();
        return Offer.GONE;
      }
      return Offer.TAKEN;
    }

    /** The buffer's DROP_OLDEST callback, on the thread offering the message. */
    void overflowed(Message message) {
      dropped(1);
    }

    /** Counts messages this subscriber lost from its buffer, here and in its topic and the broker. */
    void dropped(long count) {
      lost.addAndGet(count);
      topic.dropped(count);
    }

    long buffered() {
      if (receiver != null) {
        return receiver.queued();
      }
      return Math.max(0, accepted.get() - delivered.get() - lost.get());
    }
  }
}
