package io.micro.sidecar.core.broker;

import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.registry.Node;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * POSTs messages to other sidecars' {@code /_sub?id=<node id>} as {@code application/json}, the way
 * go-micro's http broker delivers (contract §7.4), over the sidecar's one pooled {@link HttpClient}:
 * over HTTPS to a peer whose node is {@code "secure":"true"}, with the client's TLS settings (trusted CA,
 * client certificate for mutual TLS).
 *
 * <p>Fire and forget: {@link #send} starts the request and returns at once, never waiting for the peer.
 * At most {@code maxInFlight} requests are under way; past that a message is shed and counted rather
 * than queued, so a slow or dead peer costs bounded memory. Each request is bounded by
 * {@code timeout}. Nothing is retried, so no peer ever gets a message twice. Failures are counted and
 * logged at most once per {@link #WARN_EVERY}.
 *
 * <p>Threading: {@link #send} may be called from any thread, event loops included; it does not block.
 * The client's connection pool belongs to whoever built it.
 */
final class PeerClient {

  private static final Logger log = LoggerFactory.getLogger(PeerClient.class);
  /** The path go-micro's http broker serves and posts to. */
  static final String PATH = "/_sub";
  static final Duration WARN_EVERY = Duration.ofSeconds(10);

  private final HttpClient http;
  private final Duration timeout;
  private final int maxInFlight;
  private final LongSupplier nanoTime;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder shed = new LongAdder();
  private final AtomicLong lastWarn;
  private final AtomicLong unreported = new AtomicLong();

  PeerClient(HttpClient http, Duration timeout, int maxInFlight, LongSupplier nanoTime) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("max in flight: " + maxInFlight + " (expected: at least 1)");
    }
    this.http = http.headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON));
    this.timeout = timeout;
    this.maxInFlight = maxInFlight;
    this.nanoTime = nanoTime;
    this.lastWarn = new AtomicLong(nanoTime.getAsLong() - WARN_EVERY.toNanos());
  }

  /** Starts POSTing {@code json} (an encoded {@link Message}) to {@code node}; never waits for it. */
  void send(Node node, byte[] json) {
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      shed.increment();
      warn(node, "more than " + maxInFlight + " deliveries to peers in flight; message shed");
      return;
    }
    http.post()
        .uri(uri(node))
        // each request wraps the shared array in its own buffer; nobody writes to it
        .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(json)))
        // reading the body to the end frees the connection for the next request
        .responseSingle((res, body) -> body.asString().defaultIfEmpty("").map(text -> new Answer(res.status().code(), text)))
        .timeout(timeout)
        .doFinally(signal -> inFlight.decrementAndGet())
        .subscribe(answer -> {
          if (answer.status / 100 == 2) {
            delivered.increment();
          } else {
            failed(node, "answered " + answer.status + " " + answer.body.strip());
          }
        }, e -> failed(node, e.toString()));
  }

  PeerStats stats() {
    return new PeerStats(delivered.sum(), failed.sum(), shed.sum(), inFlight.get());
  }

  /**
   * Peers are sidecars: over HTTPS when their node says {@code "secure":"true"} (they serve TLS), else
   * plain HTTP. The scheme decides: the client's TLS settings apply to HTTPS requests only.
   */
  static String uri(Node node) {
    HostPort target = node.target();
    String host = target.host().isEmpty() ? "127.0.0.1" : target.host();
    if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    boolean secure = node.metadata() != null && "true".equals(node.metadata().get("secure"));
    return (secure ? "https://" : "http://") + host + ":" + target.port() + PATH + "?id=" + URLEncoder.encode(node.id(), StandardCharsets.UTF_8);
  }

  private void failed(Node node, String why) {
    failed.increment();
    warn(node, why);
  }

  /** Logs at most one warning per {@link #WARN_EVERY}, with how many problems it stands for. */
  private void warn(Node node, String why) {
    long count = unreported.incrementAndGet();
    long now = nanoTime.getAsLong();
    long last = lastWarn.get();
    if (now - last >= WARN_EVERY.toNanos() && lastWarn.compareAndSet(last, now)) {
      unreported.addAndGet(-count);
      log.warn("broker: delivery to peer {}:{} (node {}) failed: {} ({} problem(s) since the last warning)",
          node.address(), node.port(), node.id(), why, count);
    }
  }

  private record Answer(int status, String body) {}
}
