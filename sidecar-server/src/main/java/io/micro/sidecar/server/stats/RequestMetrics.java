package io.micro.sidecar.server.stats;

import io.micro.sidecar.server.http.Route;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Requests by route and status class: {@code sidecar_http_server_requests_seconds} (count, sum, max and
 * a histogram with fixed buckets from 1 ms to 10 s), one series per route and class actually seen, so
 * at most 7 × 6. Also one latency distribution over every request but WebSocket sessions, with
 * percentiles over the last two minutes, for {@code /stats}.
 *
 * <p>Thread-safe; a recording after the first of its series only finds the timer in an array.
 */
final class RequestMetrics {

  static final String NAME = "sidecar.http.server.requests";
  private static final Duration[] BUCKETS = {
      Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
      Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};
  private static final String[] CLASS_LABELS = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

  private final MeterRegistry registry;
  private final AtomicReferenceArray<Timer> timers = new AtomicReferenceArray<>(Route.values().length * 6);
  private final Timer latency;

  RequestMetrics(MeterRegistry registry) {
    this.registry = registry;
    // kept out of the Prometheus registry: client-side percentiles there would be one more series per route
    this.latency = Timer.builder("sidecar.http.server.latency")
        .publishPercentiles(0.5, 0.9, 0.99)
        .distributionStatisticExpiry(Duration.ofMinutes(2))
        .register(new SimpleMeterRegistry());
  }

  void record(Route route, int status, long nanos) {
    int cls = StatusWindow.classOf(status);
    int i = route.ordinal() * 6 + cls;
    Timer t = timers.get(i);
    if (t == null) {
      t = Timer.builder(NAME)
          .description("HTTP requests the sidecar answered, by route and status class")
          .tag("route", route.label())
          .tag("status", CLASS_LABELS[cls])
          .serviceLevelObjectives(BUCKETS)
          .register(registry);
      timers.set(i, t);
    }
    t.record(nanos, TimeUnit.NANOSECONDS);
    if (status != 101) {
      latency.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** p50, p90, p99 in milliseconds over about the last two minutes, then the max and the count. */
  double[] latencyMillis() {
    HistogramSnapshot s = latency.takeSnapshot();
    double[] out = new double[5];
    for (ValueAtPercentile v : s.percentileValues()) {
      int at = v.percentile() == 0.5 ? 0 : v.percentile() == 0.9 ? 1 : 2;
      out[at] = v.value(TimeUnit.MILLISECONDS);
    }
    out[3] = s.max(TimeUnit.MILLISECONDS);
    out[4] = s.count();
    return out;
  }
}
