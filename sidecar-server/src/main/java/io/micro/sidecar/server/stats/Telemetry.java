package io.micro.sidecar.server.stats;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.selector.Selector;
import io.micro.sidecar.server.http.BufferBudget;
import io.micro.sidecar.server.http.ExchangeRecorder;
import io.micro.sidecar.server.http.Route;
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
 * <p>Owned by the {@link io.micro.sidecar.server.Sidecar}, which makes it in one step once what it
 * watches exists ({@link Watched}); only its {@link Meters}, to which the pool of connections to apps
 * reports its calls, come first. Wrapped around the guard ({@link #observe}), called by the direct path
 * ({@link #begin}, {@link #record}), closed after the server. Thread-safe; nothing here blocks.
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
  private final Watched watched;

  /** Reports on {@code meters} (and its access log) what {@code watched} counts, and every request from now on. */
  public Telemetry(ObservabilityConfig config, Meters meters, Watched watched) {
    this.config = config;
    this.clock = Clock.systemUTC();
    this.started = clock.millis() / 1000;
    this.meters = meters.registry;
    this.window = new StatusWindow(() -> clock.millis() / 1000);
    this.requests = new RequestMetrics(this.meters);
    this.calls = meters.calls;
    this.accessLog = meters.accessLog;
    this.sidecarMeters = new SidecarMeters(this.meters, watched);
    this.watched = watched;
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

  /** The parts whose counters are reported. */
  Watched watched() {
    return watched;
  }

  /** Stops the JVM meters; the {@link Meters} and the access log are closed by their owner, later. */
  @Override
  public void close() {
    sidecarMeters.close();
  }

  /** The parts of the sidecar whose counters are reported. */
  public record Watched(Registry registry, Broker broker, AppConnections connections, Selector selector,
                        BufferBudget budget) {}

  /**
   * The meter registry that {@code /metrics} shows and the access log, made before the rest of the
   * sidecar and closed after it: the pool of connections to apps reports its calls ({@link #calls()})
   * from its start, and an exchange that ends while the sidecar stops is still logged.
   */
  public static final class Meters implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ServiceCalls calls = new ServiceCalls(registry);
    private final AccessLog accessLog;

    public Meters(ObservabilityConfig config) {
      this.accessLog = new AccessLog(config.accessLog());
    }

    /** Hears every call to an app; give it to the pool of connections to apps. */
    public CallObserver calls() {
      return calls;
    }

    /** Flushes the access log, then closes the registry. */
    @Override
    public void close() {
      accessLog.close();
      registry.close();
    }
  }
}
