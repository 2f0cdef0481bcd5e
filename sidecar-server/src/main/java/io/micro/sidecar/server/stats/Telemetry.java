package io.micro.sidecar.server.stats;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.selector.Selector;
import io.micro.sidecar.server.http.BufferBudget;
import io.micro.sidecar.server.http.ExchangeRecorder;
import io.micro.sidecar.server.trace.TraceParent;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * What the sidecar knows about itself, and the one place every answered request is counted: the
 * 5-second status buckets of {@code /stats}, the Prometheus meters of {@code /metrics} and the access
 * log all hear of a request from {@link #record}, once its response is complete.
 *
 * <p>Owned by the {@link io.micro.sidecar.server.Sidecar}: made before the pool of connections to apps
 * (which reports calls to {@link #calls()}), told what to watch once the registry, broker and selector
 * exist ({@link #watch}), wrapped around the guard ({@link #observe}) and called by the direct path
 * ({@link #begin}, {@link #record}), and closed after the server. Thread-safe; nothing here blocks.
 */
public final class Telemetry implements ExchangeRecorder, AutoCloseable {

  private final ObservabilityConfig config;
  private final Clock clock;
  private final long started;
  private final PrometheusMeterRegistry meters;
  private final StatusWindow window;
  private final RequestMetrics requests;
  private final ServiceCalls calls;
  private final AccessLog accessLog;
  private final SidecarMeters sidecarMeters;
  private volatile Watched watched;

  public Telemetry(ObservabilityConfig config) {
    this(config, Clock.systemUTC());
  }

  Telemetry(ObservabilityConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.started = clock.millis() / 1000;
    this.meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.window = new StatusWindow(() -> clock.millis() / 1000);
    this.requests = new RequestMetrics(meters);
    this.calls = new ServiceCalls(meters);
    this.accessLog = new AccessLog(config.accessLog());
    this.sidecarMeters = new SidecarMeters(meters);
  }

  /** Hears every call to an app; give it to the pool of connections to apps. */
  public CallObserver calls() {
    return calls;
  }

  /** Starts reporting the registry's cache age, the broker's counters, the pool and the selector. */
  /** Reports the buffering budget: bytes held and work refused for want of room. */
  public void budget(BufferBudget budget) {
    sidecarMeters.budget(budget);
  }

  public void watch(Registry registry, Broker broker, AppConnections connections, Selector selector) {
    Watched w = new Watched(registry, broker, connections, selector);
    sidecarMeters.watch(w);
    this.watched = w;
  }

  /** The route table with {@code /stats} (with {@code --enable_stats}) and {@code /metrics} (unless {@code --enable_metrics=false}) in front of it. */
  public BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> endpoints(
      BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> routes) {
    return new Endpoints(this, config.stats(), config.metrics(), routes);
  }

  /** {@code handler} (the guard and everything behind it) with trace context prepared and every request counted. */
  public BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> observe(
      BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> handler) {
    return new ObservedHandler(this, handler);
  }

  /**
   * Where every request starts to be observed, on whichever path serves it: prepares trace context
   * (with {@code --trace_create}) and returns the start time to give {@link #record}.
   */
  @Override
  public long begin(HttpHeaders headers) {
    if (config.traceCreate()) {
      TraceParent.prepare(headers, ThreadLocalRandom.current());
    }
    return System.nanoTime();
  }

  /**
   * Counts one answered request, once, in the status window, the meters and the access log.
   *
   * @param bytes the answer's body length; -1 when streamed without one
   */
  @Override
  public void record(String method, String uri, InetSocketAddress remote, HttpHeaders headers, int status, long bytes,
                     long startNanos) {
    long nanos = System.nanoTime() - startNanos;
    int query = uri.indexOf('?');
    Route route = Route.of(query < 0 ? uri : uri.substring(0, query), config.stats(), config.metrics());
    window.record(status);
    requests.record(route, status, nanos);
    if (accessLog.enabled()) {
      accessLog.log(remote, method, uri, headers.get(TraceParent.TRACEPARENT), status, bytes, nanos);
    }
  }

  long started() {
    return started;
  }

  Clock clock() {
    return clock;
  }

  StatusWindow window() {
    return window;
  }

  RequestMetrics requests() {
    return requests;
  }

  ServiceCalls serviceCalls() {
    return calls;
  }

  PrometheusMeterRegistry meters() {
    return meters;
  }

  /** What {@link #watch} was given; null before. */
  Watched watched() {
    return watched;
  }

  @Override
  public void close() {
    accessLog.close();
    sidecarMeters.close();
    meters.close();
  }

  /** The parts of the sidecar whose counters are reported. */
  record Watched(Registry registry, Broker broker, AppConnections connections, Selector selector) {}
}
