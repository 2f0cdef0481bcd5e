package io.micro.sidecar.server.http;

import io.micro.sidecar.core.config.SecurityConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * In front of every route: CORS (contract §1 {@code --cors}, the original sidecar's headers and its
 * answer to OPTIONS), the Origin check of WebSocket upgrades, and the optional API token.
 *
 * <p>With a token, every request needs {@code Authorization: Bearer <token>}, compared in constant
 * time, except the sidecar's own probes ({@code /healthz}, {@code /readyz}) and, with
 * {@code --api_token_open_reads}, reads: GET and HEAD, but not a broker WebSocket, which publishes.
 * The token is never logged.
 */
public final class Guard implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

  static final String ALLOW_METHODS = "POST, PATCH, GET, OPTIONS, PUT, DELETE";
  static final String ALLOW_HEADERS =
      "Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, Timestamp";
  private static final Set<String> PROBES = Set.of("/healthz", "/readyz");

  private final BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> next;
  private final boolean anyOrigin;
  private final List<String> origins;
  private final byte[] token;
  private final boolean openReads;

  public Guard(SecurityConfig security, BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> next) {
    this.next = next;
    this.anyOrigin = security.cors().contains("*");
    this.origins = security.cors();
    this.token = security.apiToken().map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8)).orElse(null);
    this.openReads = security.openReads();
  }

  @Override
  public Publisher<Void> apply(HttpServerRequest req, HttpServerResponse res) {
    String origin = req.requestHeaders().get(HttpHeaderNames.ORIGIN);
    boolean allowed = origin == null || anyOrigin || origins.contains(origin);
    if (allowed) {
      cors(res, origin);
    }
    if (req.method().equals(HttpMethod.OPTIONS)) {
      // the original sidecar answers every OPTIONS at once: a preflight needs nothing more
      return Responses.ok(res);
    }
    boolean upgrade = req.requestHeaders().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    if (upgrade && !allowed) {
      return Responses.text(res, HttpResponseStatus.FORBIDDEN, "origin not allowed: " + Responses.oneLine(origin)
          + " (expected: one of --cors)");
    }
    if (token != null && !authorized(req, upgrade)) {
      res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"micro\"");
      return Responses.text(res, HttpResponseStatus.UNAUTHORIZED,
          "unauthorized: missing or wrong API token (expected: Authorization: Bearer <token>)");
    }
    return next.apply(req, res);
  }

  private boolean authorized(HttpServerRequest req, boolean upgrade) {
    String path = req.fullPath();
    if (PROBES.contains(path)) {
      return true;
    }
    boolean read = req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
    if (openReads && read && !(upgrade && path.equals("/broker"))) {
      return true;
    }
    String given = req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
    return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token);
  }

  private void cors(HttpServerResponse res, String origin) {
    if (anyOrigin) {
      res.header(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    } else if (origin != null) {
      res.header(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      res.header(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
    }
    res.header(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
    res.header(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS);
  }
}
