package io.micro.sidecar.core.config;

/**
 * What the sidecar tells about itself.
 *
 * @param stats       {@code /stats}: JSON counters and an HTML dashboard ({@code --enable_stats}, default off)
 * @param metrics     {@code /metrics} in Prometheus text ({@code --enable_metrics}, default on, as Dapr and
 *                    Envoy expose theirs by default)
 * @param accessLog   one line per request on the SLF4J logger {@code access} ({@code --access_log}, default on)
 * @param traceCreate create a W3C {@code traceparent} when a request has none, and give calls to apps a new
 *                    span id that is a child of the caller's ({@code --trace_create}, default off: trace
 *                    headers are passed on unchanged)
 */
public record ObservabilityConfig(boolean stats, boolean metrics, boolean accessLog, boolean traceCreate) {

  public static final ObservabilityConfig DEFAULT = new ObservabilityConfig(false, true, true, false);

  public ObservabilityConfig withStats(boolean stats) {
    return new ObservabilityConfig(stats, metrics, accessLog, traceCreate);
  }

  public ObservabilityConfig withAccessLog(boolean accessLog) {
    return new ObservabilityConfig(stats, metrics, accessLog, traceCreate);
  }

  public ObservabilityConfig withTraceCreate(boolean traceCreate) {
    return new ObservabilityConfig(stats, metrics, accessLog, traceCreate);
  }
}
