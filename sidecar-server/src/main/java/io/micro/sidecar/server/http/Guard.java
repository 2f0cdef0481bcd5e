package io.micro.sidecar.server.http;

import io.micro.sidecar.core.config.SecurityConfig;
import io.micro.sidecar.core.text.Shown;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * In front of every route: CORS (contract §1 {@code --cors}, the original sidecar's headers and its
 * answer to OPTIONS), the Origin check of WebSocket upgrades, and the optional API token.
 *
 * <p>With a token, every request needs {@code Authorization: Bearer <token>}, compared in constant
 * time, except the sidecar's own probes ({@code /healthz}, {@code /readyz}) and, with
 * {@code --api_token_open_reads}, reads: GET and HEAD, but no WebSocket other than the registry watch
 * (broker and proxied sockets carry frames in). The token is removed from the request once checked,
 * so it never reaches an app or a broker subscriber, and it is never logged. A request target that
 * does not start with {@code /} is refused first, then one without exactly one {@code Host}
 * (RFC 9112 §3.2) and a WebSocket upgrade that carries a body.
 */
public final class Guard implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

  static final String ALLOW_METHODS = "POST, PATCH, GET, OPTIONS, PUT, DELETE";
  static final String ALLOW_HEADERS =
      "Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, Timestamp";

  private final BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> next;
  private final boolean anyOrigin;
  private final List<String> origins;
  private final byte[] token;
  private final boolean openReads;
  private final boolean credentials;
  private final BooleanSupplier draining;

  /** @param draining true once shutdown drains connections: from then on every answer carries {@code Connection: close} */
  public Guard(SecurityConfig security, BooleanSupplier draining,
               BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> next) {
    this.next = next;
    this.draining = draining;
    this.anyOrigin = security.cors().contains("*");
    this.origins = security.cors();
    this.token = security.apiToken().map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8)).orElse(null);
    this.openReads = security.openReads();
    this.credentials = security.corsCredentials();
  }

  @Override
  public Publisher<Void> apply(HttpServerRequest req, HttpServerResponse res) {
    if (draining.getAsBoolean()) {
      // shutting down: every answer tells its client to reconnect, so no client reuses a connection the drain will close
      res.keepAlive(false);
    }
    HttpHeaders headers = req.requestHeaders();
    if (!req.uri().startsWith("/")) {
      // absolute-form and other targets would be read differently by different parts of the sidecar
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST,
          "invalid request target: " + Shown.line(req.uri()) + " (expected: a path starting with /)");
    }
    int hosts = hosts(headers);
    if (hosts > 1 || (hosts == 0 && req.version().equals(HttpVersion.HTTP_1_1))) {
      // RFC 9112 §3.2: an HTTP/1.1 request without Host, or any request with two, is answered 400
      res.keepAlive(false);
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST, "Host: " + (hosts == 0 ? "missing" : hosts
          + " headers") + " (expected: exactly one)");
    }
    boolean upgrade = upgrade(headers);
    if (upgrade && hasBody(headers)) {
      // a WebSocket handshake is a GET without a body (RFC 6455 §4.1); upgrading one would hand its body to the
      // WebSocket codec, where nothing releases it
      res.keepAlive(false);
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST,
          "WebSocket upgrade with a body (expected: none; send messages as frames once upgraded)");
    }
    String origin = headers.get(HttpHeaderNames.ORIGIN);
    boolean allowed = cors(headers, res.responseHeaders());
    if (req.method().equals(HttpMethod.OPTIONS)) {
      // the original sidecar answers every OPTIONS at once: a preflight needs nothing more
      return Responses.ok(res);
    }
    if (upgrade && !allowed) {
      return Responses.text(res, HttpResponseStatus.FORBIDDEN, "origin not allowed: " + Shown.line(origin)
          + " (expected: one of --cors)");
    }
    if (token != null) {
      if (!authorized(req.method(), req.uri(), headers, upgrade)) {
        res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"micro\"");
        return Responses.text(res, HttpResponseStatus.UNAUTHORIZED,
            "unauthorized: missing or wrong API token (expected: Authorization: Bearer <token>)");
      }
      // the token is the sidecar's: it must not travel on to apps or broker subscribers
      headers.remove(HttpHeaderNames.AUTHORIZATION);
    }
    return next.apply(req, res);
  }

  /**
   * For the direct path: true when {@link #apply} would hand this request to the routes with nothing
   * answered (a target starting with {@code /}, one {@code Host}, no upgrade, not OPTIONS, the token
   * right), having removed the token. The caller then adds {@link #cors} to its answer. False leaves
   * the request untouched, for {@link #apply} to refuse.
   */
  boolean admit(HttpMethod method, String uri, HttpHeaders headers) {
    if (!uri.startsWith("/") || hosts(headers) != 1 || method.equals(HttpMethod.OPTIONS)
        || headers.contains(HttpHeaderNames.UPGRADE)) {
      return false;
    }
    if (token != null) {
      if (!authorized(method, uri, headers, false)) {
        return false;
      }
      headers.remove(HttpHeaderNames.AUTHORIZATION);
    }
    return true;
  }

  private static boolean upgrade(HttpHeaders headers) {
    return headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
  }

  private static int hosts(HttpHeaders headers) {
    int n = 0;
    for (Iterator<String> it = headers.valueStringIterator(HttpHeaderNames.HOST); it.hasNext(); it.next()) {
      n++;
    }
    return n;
  }

  private static boolean hasBody(HttpHeaders headers) {
    String length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    return headers.contains(HttpHeaderNames.TRANSFER_ENCODING)
        || (length != null && !length.trim().equals("0"));
  }

  private boolean authorized(HttpMethod method, String uri, HttpHeaders headers, boolean upgrade) {
    String path;
    try {
      // the same decoding Routes uses, so that what is exempt here is what is served there
      path = new QueryStringDecoder(uri).path();
    } catch (IllegalArgumentException e) {
      path = uri;
    }
    Route route = Route.of(path, false, false);
    if (route.probe()) {
      return true;
    }
    boolean read = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
    // of WebSockets only the registry watch is a pure read: broker and proxied ones carry frames in
    if (openReads && read && (!upgrade || route == Route.REGISTRY)) {
      return true;
    }
    String given = headers.get(HttpHeaderNames.AUTHORIZATION);
    return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token);
  }

  /**
   * Contract §12: an allowed Origin is echoed (never {@code *} for a request that names one) with
   * {@code Vary: Origin}, so caches keep answers per origin; credentials only with
   * {@code --cors_credentials}. A request without Origin (curl, an app) gets {@code *} when any origin
   * is allowed. Returns whether the origin is allowed (no Origin counts as allowed); a refused one gets no
   * CORS headers.
   */
  boolean cors(HttpHeaders request, HttpHeaders response) {
    String origin = request.get(HttpHeaderNames.ORIGIN);
    if (origin != null && !anyOrigin && !origins.contains(origin)) {
      return false;
    }
    if (origin != null) {
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      response.set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
      if (credentials) {
        response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
      }
    } else if (anyOrigin) {
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    }
    response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
    // a preflight gets the headers it asks for; other answers the original's list
    String requested = request.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS);
    response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
        requested != null && !requested.isBlank() ? requested : ALLOW_HEADERS);
    return true;
  }
}
