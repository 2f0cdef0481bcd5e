package io.micro.sidecar.server.http;

import io.micro.sidecar.core.health.ProbeResult;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Health of the app and of the sidecar itself, kept apart (contract §6).
 *
 * <ul>
 *   <li>{@code GET /health}: the attached app, from a fresh probe bounded by the health timeout —
 *       200 empty when healthy (or no health URL is set), the app's status with
 *       {@code Non 200 response: <code>}, or 500 with the connection error. 404 without an app.
 *   <li>{@code GET /healthz}: the sidecar is alive (it answers). Never waits on anything.
 *   <li>{@code GET /readyz}: the sidecar takes traffic; 503 once shutdown has begun. Never waits on
 *       the registry.
 * </ul>
 */
final class HealthHandler {

  private final Optional<Supplier<Mono<ProbeResult>>> app;
  private final BooleanSupplier ready;

  HealthHandler(Optional<Supplier<Mono<ProbeResult>>> app, BooleanSupplier ready) {
    this.app = app;
    this.ready = ready;
  }

  Mono<Void> app(HttpServerResponse res) {
    if (app.isEmpty()) {
      return Responses.text(res, HttpResponseStatus.NOT_FOUND, "no app attached (start with --server_name and --server_address)");
    }
    return app.get().get().flatMap(r -> {
      if (r.healthy()) {
        return Responses.ok(res);
      }
      HttpResponseStatus status = r.status() >= 200 && r.status() <= 599
          ? HttpResponseStatus.valueOf(r.status()) : HttpResponseStatus.INTERNAL_SERVER_ERROR;
      return Responses.text(res, status, r.cause());
    });
  }

  Mono<Void> live(HttpServerResponse res) {
    return Responses.text(res, HttpResponseStatus.OK, "ok");
  }

  Mono<Void> ready(HttpServerResponse res) {
    return ready.getAsBoolean()
        ? Responses.text(res, HttpResponseStatus.OK, "ready")
        : Responses.text(res, HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down");
  }
}
