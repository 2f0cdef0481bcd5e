package io.micro.sidecar.server.stats;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code /stats} with {@code --enable_stats} (contract §8): JSON for a request that sends or accepts
 * {@code application/json}, otherwise the dashboard, one self-contained HTML page (styles and script
 * inline, no CDN) that fetches the JSON every two seconds.
 */
final class StatsHandler {

  static final String DASHBOARD = "dashboard.html";

  private final Telemetry telemetry;
  private final byte[] page;

  StatsHandler(Telemetry telemetry) {
    this.telemetry = telemetry;
    try (InputStream in = StatsHandler.class.getResourceAsStream(DASHBOARD)) {
      if (in == null) {
        throw new IllegalStateException("stats: " + DASHBOARD + " missing from the classpath (expected beside StatsHandler)");
      }
      this.page = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    HttpHeaders h = req.requestHeaders();
    boolean json = h.get(HttpHeaderNames.CONTENT_TYPE, "").startsWith("application/json")
        || h.get(HttpHeaderNames.ACCEPT, "").contains("application/json");
    byte[] body = json ? StatsCodec.encode(telemetry) : page;
    return res.status(HttpResponseStatus.OK)
        .header(HttpHeaderNames.CONTENT_TYPE, json ? HttpHeaderValues.APPLICATION_JSON : "text/html; charset=utf-8")
        .header(HttpHeaderNames.CACHE_CONTROL, "no-store")
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .send(Mono.just(Unpooled.wrappedBuffer(body)))
        .then();
  }
}
