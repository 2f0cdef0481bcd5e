package io.micro.sidecar.server.stats;

/**
 * What a request was for, as a metric label: a fixed set, whatever paths clients send, so that the
 * catch-all's open-ended paths never become series of their own.
 */
enum Route {
  REGISTRY("registry"),
  RPC("rpc"),
  BROKER("broker"),
  HEALTH("health"),
  STATS("stats"),
  METRICS("metrics"),
  CATCH_ALL("catch-all");

  private final String label;

  Route(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }

  /**
   * @param path    the path without its query
   * @param stats   whether {@code /stats} is served ({@code --enable_stats}); otherwise it is the catch-all's
   * @param metrics whether {@code /metrics} is served; otherwise it is the catch-all's
   */
  static Route of(String path, boolean stats, boolean metrics) {
    return switch (path) {
      case "/registry" -> REGISTRY;
      case "/rpc" -> RPC;
      case "/broker" -> BROKER;
      case "/health", "/healthz", "/readyz" -> HEALTH;
      case "/stats" -> stats ? STATS : CATCH_ALL;
      case "/metrics" -> metrics ? METRICS : CATCH_ALL;
      default -> CATCH_ALL;
    };
  }
}
