package io.micro.sidecar.server.http;

import java.util.HashMap;
import java.util.Map;

/**
 * The sidecar's routes: the one table that the route handlers ({@link Routes}), the direct path
 * ({@link DirectPath}), the guard's exemptions ({@link Guard}) and telemetry (the {@code route} label of
 * {@code /metrics}, the telemetry endpoints) all read, so that a path means the same thing to each.
 * Every path not listed is the catch-all's (rpc or proxy, by {@code --handler}).
 */
public enum Route {
  REGISTRY("/registry", "registry", false),
  RPC("/rpc", "rpc", false),
  BROKER("/broker", "broker", false),
  /** The app's health, as the original's {@code /health}. */
  HEALTH("/health", "health", false),
  /** The sidecar's own liveness: open to orchestrators without the API token. */
  LIVE("/healthz", "health", true),
  /** The sidecar's readiness: open to orchestrators without the API token. */
  READY("/readyz", "health", true),
  /** Only with {@code --enable_stats}; otherwise the catch-all's. */
  STATS("/stats", "stats", false),
  /** Unless {@code --enable_metrics=false}; otherwise the catch-all's. */
  METRICS("/metrics", "metrics", false),
  /** Messages from other sidecars' brokers ({@code --broker=http}). */
  PEERS("/_sub", "catch-all", false),
  /** {@code /} (and an empty path): 404, as the original answers it. */
  ROOT("/", "catch-all", false),
  CATCH_ALL(null, "catch-all", false);

  private static final Map<String, Route> BY_PATH = new HashMap<>();

  static {
    for (Route r : values()) {
      if (r.path != null) {
        BY_PATH.put(r.path, r);
      }
    }
    BY_PATH.put("", ROOT);
  }

  private final String path;
  private final String label;
  private final boolean probe;

  Route(String path, String label, boolean probe) {
    this.path = path;
    this.label = label;
    this.probe = probe;
  }

  /** Its path; null for the catch-all. */
  public String path() {
    return path;
  }

  /**
   * What a request was for, as a metric label: a fixed set, whatever paths clients send, so that the
   * catch-all's open-ended paths never become series of their own.
   */
  public String label() {
    return label;
  }

  /** An orchestrator's probe, which the API token does not guard. */
  public boolean probe() {
    return probe;
  }

  /**
   * The route serving {@code path} (decoded, without its query).
   *
   * @param stats   whether {@code /stats} is served ({@code --enable_stats}); otherwise it is the catch-all's
   * @param metrics whether {@code /metrics} is served; otherwise it is the catch-all's
   */
  public static Route of(String path, boolean stats, boolean metrics) {
    Route r = BY_PATH.getOrDefault(path, CATCH_ALL);
    return r == STATS && !stats || r == METRICS && !metrics ? CATCH_ALL : r;
  }
}
