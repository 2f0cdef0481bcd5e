package io.micro.sidecar.core.broker;

import io.micro.sidecar.core.registry.Registry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntUnaryOperator;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * {@code --broker=http} (contract §7.4): the in-process broker, plus go-micro's http broker between the
 * sidecars sharing a registry, so a message published on any sidecar reaches subscribers on all.
 *
 * <ul>
 *   <li>Subscribing registers this sidecar's {@code topic:<t>} node for the subscriber's queue (or
 *       broadcast) while it has local subscribers there ({@link TopicRegistrar}).</li>
 *   <li>Publishing looks {@code topic:<t>} up, delivers this sidecar's share at once to local
 *       subscribers, and POSTs {@code {"Header":{..,":topic":"t"},"Body":".."}} to every other
 *       sidecar's broadcast node and to the one node picked per queue group ({@link DeliveryPlan}
 *       states the exactly-once rule). The publish completes once local delivery is done; peer
 *       deliveries go on in the background and their failures never fail the publish
 *       ({@link PeerClient}).</li>
 *   <li>{@link #receive} takes what a peer POSTed to {@code /_sub?id=}: to the plain subscribers for a
 *       broadcast node, to one member of the group for a queue node, and never further.</li>
 * </ul>
 *
 * <p>Guarantees: each message reaches each plain subscriber and each queue group at most once, and
 * exactly once while membership and peers are steady. Not guaranteed: order between messages going to
 * a peer (requests run concurrently), and delivery to a peer that is down or to a group whose members
 * on the chosen sidecar just left — nothing is retried. A queue named {@value DeliveryPlan#BROADCAST}
 * collides with go-micro's broadcast version and is not supported.
 *
 * <p>Threading and ownership as {@link Broker}. The broker owns its local buffers and registrations
 * ({@link #close} deregisters them, blocking up to a few seconds); the HTTP client's pool and the
 * registry belong to the caller and must outlive it.
 */
public final class HttpBroker implements Broker {

  private static final Logger log = LoggerFactory.getLogger(HttpBroker.class);
  /** Most POSTs to peers under way at once, over all peers; more are shed (counted). */
  public static final int DEFAULT_MAX_IN_FLIGHT = 4096;
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
  private static final Predicate<String> NO_GROUP = queue -> false;

  private final SinkBroker local;
  private final Registry registry;
  private final TopicRegistrar nodes;
  private final PeerClient peers;
  private final IntUnaryOperator pick;
  private final LongAdder published = new LongAdder();
  private volatile boolean closed;

  HttpBroker(SinkBroker local, Registry registry, TopicRegistrar nodes, PeerClient peers, IntUnaryOperator pick) {
    this.local = local;
    this.registry = registry;
    this.nodes = nodes;
    this.peers = peers;
    this.pick = pick;
  }

  /**
   * @param http    the sidecar's pooled client, with the TLS settings for peers that serve HTTPS;
   *                deliveries to peers share its connections
   * @param timeout bound of one delivery to a peer
   */
  public static HttpBroker create(BrokerConfig config, Registry registry, HttpClient http, Duration timeout) {
    return new HttpBroker(new SinkBroker(config), registry, new TopicRegistrar(registry),
        new PeerClient(http, timeout, DEFAULT_MAX_IN_FLIGHT, System::nanoTime),
        n -> ThreadLocalRandom.current().nextInt(n));
  }

  /**
   * Peers reach this sidecar's {@code /_sub} at {@code host:port}, over HTTPS when {@code secure} (its
   * nodes then say {@code "secure":"true"}); until this is called nothing is registered. Call once, when
   * the server is bound.
   */
  public void listening(String host, int port, boolean secure) {
    nodes.listening(host, port, secure);
  }

  @Override
  public Mono<Void> publish(String topic, Message message) {
    return Mono.defer(() -> {
      String name = Broker.requireTopic(topic);
      Objects.requireNonNull(message, "message");
      if (closed) {
        return Mono.error(new IllegalStateException("broker: closed (expected: a running sidecar)"));
      }
      return registry.lookup(TopicRegistrar.SERVICE_PREFIX + name)
          .onErrorResume(e -> {
            log.warn("broker: looking up {}{} failed; delivering on this sidecar only: {}",
                TopicRegistrar.SERVICE_PREFIX, name, e.toString());
            return Mono.just(List.of());
          })
          .defaultIfEmpty(List.of())
          .doOnNext(services -> deliver(name, message, DeliveryPlan.of(services, nodes::own, local.queues(name), pick)))
          .then();
    });
  }

  private void deliver(String topic, Message message, DeliveryPlan plan) {
    if (!local.deliver(topic, message, true, plan.localQueues()::contains)) {
      throw new IllegalStateException("broker: closed (expected: a running sidecar)");
    }
    published.increment();
    if (!plan.peers().isEmpty()) {
      Map<String, String> header = new HashMap<>(message.header());
      header.put(TOPIC_HEADER, topic);
      byte[] json = MessageCodec.encode(new Message(header, message.body()));
      plan.peers().forEach(node -> peers.send(node, json));
    }
  }

  /** The header go-micro's http broker carries the topic in between sidecars. */
  public static final String TOPIC_HEADER = ":topic";

  /** What became of a message a peer POSTed to {@code /_sub}. */
  public enum Receipt {
    /** Handed to this sidecar's subscribers of the node (possibly none, if they just left). */
    DELIVERED,
    /** No node of this sidecar has that id (any more). */
    UNKNOWN_NODE,
    /** The message's {@value #TOPIC_HEADER} names another topic than the node's. */
    WRONG_TOPIC,
    /** The broker is closed. */
    CLOSED
  }

  /**
   * Delivers a message a peer sent to this sidecar's node {@code nodeId}: to the plain subscribers
   * for a broadcast node, to one member of the group for a queue node. The {@value #TOPIC_HEADER}
   * header is taken out. Never forwarded to other sidecars. Does not block.
   */
  public Receipt receive(String nodeId, Message message) {
    TopicRegistrar.Key key = nodes.keyOf(nodeId);
    if (key == null) {
      return Receipt.UNKNOWN_NODE;
    }
    String topic = message.header().get(TOPIC_HEADER);
    if (topic != null && !topic.equals(key.topic())) {
      return Receipt.WRONG_TOPIC;
    }
    Message m = message;
    if (topic != null) {
      Map<String, String> header = new HashMap<>(message.header());
      header.remove(TOPIC_HEADER);
      m = new Message(header, message.body());
    }
    boolean delivered = key.broadcast()
        ? local.deliver(key.topic(), m, true, NO_GROUP)
        : local.deliver(key.topic(), m, false, key.version()::equals);
    return delivered ? Receipt.DELIVERED : Receipt.CLOSED;
  }

  @Override
  public Flux<Message> subscribe(String topic, String queue) {
    return Flux.defer(() -> {
      String name = Broker.requireTopic(topic);
      String q = queue == null || queue.isEmpty() ? null : queue;
      return local.subscribe(name, q)
          .doOnSubscribe(s -> nodes.join(name, q))
          .doFinally(signal -> nodes.leave(name, q));
    });
  }

  @Override
  public Subscription attach(String topic, String queue, Receiver receiver) {
    String name = Broker.requireTopic(topic);
    String q = queue == null || queue.isEmpty() ? null : queue;
    Subscription local = this.local.attach(name, q, receiver);
    nodes.join(name, q);
    return new Subscription() {
      private final AtomicBoolean left = new AtomicBoolean();

      @Override
      public void dropped(long count) {
        local.dropped(count);
      }

      @Override
      public void cut() {
        local.cut();
      }

      @Override
      public void leave() {
        if (left.compareAndSet(false, true)) {
          local.leave();
          nodes.leave(name, q);
        }
      }
    };
  }

  @Override
  public BrokerStats stats() {
    return local.stats();
  }

  @Override
  public BrokerStats stats(String topic) {
    return local.stats(topic);
  }

  /** Deliveries to other sidecars since start. */
  public PeerStats peerStats() {
    return peers.stats();
  }

  @Override
  public Optional<PeerStats> peers() {
    return Optional.of(peers.stats());
  }

  @Override
  public Map<String, BrokerStats> topics() {
    return local.topics();
  }

  /** Messages published on this sidecar (not those peers delivered to it). */
  @Override
  public long published() {
    return published.sum();
  }

  /** Messages handed to this sidecar's subscribers, whoever published them. */
  @Override
  public long delivered() {
    return local.delivered();
  }

  /** Deregisters this sidecar's topic nodes (blocking up to a few seconds), then closes as {@link Broker#close}. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      nodes.close(CLOSE_TIMEOUT);
    } finally {
      local.close();
    }
  }
}
