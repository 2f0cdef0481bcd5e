package io.micro.sidecar.server.stats;

import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.server.trace.TraceParent;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Wraps the route table: prepares trace context, serves the two telemetry endpoints (which report on
 * this wrapper's own counts, so they live beside it rather than in the table), and hears how every
 * request ended in {@code doFinally}, which covers complete, error and cancel.
 *
 * <p>The status counted is the one answered: what the handler set on the response, or, when the
 * handler failed before sending headers, the 500 reactor-netty then sends; a client that went away
 * before any answer (cancelling the handler, or failing it by closing) is counted as 499 (nginx's
 * "client closed request"); an accepted WebSocket upgrade
 * as 101, when its session ends. Requests reactor-netty refuses before any handler runs (a malformed
 * request line, say) are not seen.
 */
final class ObservedHandler implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

  private final Telemetry telemetry;
  private final BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> routes;
  private final StatsHandler stats;
  private final MetricsHandler metrics;
  private final boolean traceCreate;

  ObservedHandler(Telemetry telemetry, BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> routes,
                  ObservabilityConfig config) {
    this.telemetry = telemetry;
    this.routes = routes;
    this.stats = config.stats() ? new StatsHandler(telemetry) : null;
    this.metrics = config.metrics() ? new MetricsHandler(telemetry.meters()) : null;
    this.traceCreate = config.traceCreate();
  }

  @Override
  public Publisher<Void> apply(HttpServerRequest req, HttpServerResponse res) {
    long start = System.nanoTime();
    String uri = req.uri();
    int query = uri.indexOf('?');
    Route route = Route.of(query < 0 ? uri : uri.substring(0, query), stats != null, metrics != null);
    Mono<Void> handled;
    try {
      if (traceCreate) {
        TraceParent.prepare(req.requestHeaders(), ThreadLocalRandom.current());
      }
      handled = switch (route) {
        case STATS -> stats.handle(req, res);
        case METRICS -> metrics.handle(req, res);
        default -> Mono.from(routes.apply(req, res));
      };
    } catch (RuntimeException e) {
      handled = Mono.error(e);
    }
    return handled.doFinally(signal -> telemetry.record(req, res, route, signal, start));
  }

  static int status(HttpServerRequest req, HttpServerResponse res, SignalType signal) {
    if (!res.hasSentHeaders()) {
      if (signal == SignalType.CANCEL || (signal == SignalType.ON_ERROR && closed(res))) {
        return 499;
      }
      if (signal == SignalType.ON_ERROR) {
        return 500;
      }
    }
    int status = res.status().code();
    return status == 200 && req.isWebsocket() ? 101 : status;
  }

  /** The client's connection is gone: a failure then is the client leaving, not a 500. */
  private static boolean closed(HttpServerResponse res) {
    boolean[] closed = {false};
    res.withConnection(c -> closed[0] = !c.channel().isActive());
    return closed[0];
  }

  /** The body's length as declared; -1 when it was streamed without one. */
  static long bytes(HttpServerResponse res, int status) {
    if (status == 101 || status == 499) {
      return 0;
    }
    String length = res.responseHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
    if (length == null) {
      return -1;
    }
    try {
      return Long.parseLong(length);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
