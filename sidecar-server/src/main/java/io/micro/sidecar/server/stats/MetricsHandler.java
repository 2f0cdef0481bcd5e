package io.micro.sidecar.server.stats;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code GET /metrics}: every meter in the Prometheus text format 0.0.4. The scrape runs on the event
 * loop: it only reads counters, and its size is bounded because no label takes unbounded values.
 */
final class MetricsHandler {

  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry meters;

  MetricsHandler(PrometheusMeterRegistry meters) {
    this.meters = meters;
  }

  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
      res.header(HttpHeaderNames.ALLOW, "GET, HEAD");
      return res.status(HttpResponseStatus.METHOD_NOT_ALLOWED).header(HttpHeaderNames.CONTENT_LENGTH, "0").send();
    }
    byte[] body = meters.scrape().getBytes(StandardCharsets.UTF_8);
    return res.status(HttpResponseStatus.OK)
        .header(HttpHeaderNames.CONTENT_TYPE, CONTENT_TYPE)
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .send(Mono.just(Unpooled.wrappedBuffer(body)))
        .then();
  }
}
