package io.micro.sidecar.server.stats;

import io.micro.sidecar.server.http.Route;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The two telemetry routes, {@code /stats} (with {@code --enable_stats}) and {@code /metrics} (unless
 * {@code --enable_metrics=false}), in front of the route table and behind the guard like any route.
 */
final class Endpoints implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

  private final StatsHandler stats;
  private final MetricsHandler metrics;
  private final BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> routes;

  Endpoints(Telemetry telemetry, boolean stats, boolean metrics,
            BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> routes) {
    this.stats = stats ? new StatsHandler(telemetry) : null;
    this.metrics = metrics ? new MetricsHandler(telemetry.meters()) : null;
    this.routes = routes;
  }

  @Override
  public Publisher<Void> apply(HttpServerRequest req, HttpServerResponse res) {
    String uri = req.uri();
    int query = uri.indexOf('?');
    return switch (Route.of(query < 0 ? uri : uri.substring(0, query), stats != null, metrics != null)) {
      case STATS -> stats.handle(req, res);
      case METRICS -> metrics.handle(req, res);
      default -> routes.apply(req, res);
    };
  }
}
