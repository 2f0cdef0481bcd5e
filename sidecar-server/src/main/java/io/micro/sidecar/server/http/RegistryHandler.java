package io.micro.sidecar.server.http;

import io.micro.sidecar.core.config.GoDuration;
import io.micro.sidecar.core.registry.InvalidServiceException;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.ServiceCodec;
import io.micro.sidecar.server.websocket.RegistryWatchHandler;
import io.micro.sidecar.server.websocket.Sessions;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.time.Duration;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** {@code /registry} (contract §3): look up, list, register, deregister and watch services. */
final class RegistryHandler {

  private static final Logger log = LoggerFactory.getLogger(RegistryHandler.class);

  static final String CACHE_AGE = "X-Registry-Cache-Age";

  private final Registry registry;
  private final Bodies bodies;
  private final BufferBudget budget;
  private final RegistryWatchHandler watch;

  RegistryHandler(Registry registry, Bodies bodies, BufferBudget budget,
                  Sessions sessions) {
    this.budget = budget;
    this.registry = registry;
    this.bodies = bodies;
    this.watch = new RegistryWatchHandler(registry, sessions);
  }

  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res, QueryStringDecoder uri) {
    HttpMethod method = req.method();
    String service = Routes.param(uri, "service");
    if (method.equals(HttpMethod.GET)) {
      if (isUpgrade(req)) {
        return watch.handle(res, service);
      }
      return service == null ? list(res) : lookup(res, service);
    }
    if (method.equals(HttpMethod.POST)) {
      Duration ttl;
      try {
        ttl = ttl(Routes.param(uri, "ttl"));
      } catch (IllegalArgumentException e) {
        return Responses.text(res, HttpResponseStatus.BAD_REQUEST, "ttl: " + e.getMessage());
      }
      return write(req, res, s -> registry.register(s, ttl));
    }
    if (method.equals(HttpMethod.DELETE)) {
      return write(req, res, registry::deregister);
    }
    return Responses.methodNotAllowed(res, "GET, POST, DELETE");
  }

  private Mono<Void> lookup(HttpServerResponse res, String name) {
    age(res);
    return registry.lookup(name).flatMap(found -> found.isEmpty()
        ? Responses.text(res, HttpResponseStatus.NOT_FOUND, "Service not found")
        : answer(res, ServiceCodec.encode(found)));
  }

  private Mono<Void> list(HttpServerResponse res) {
    age(res);
    return registry.list().flatMap(all -> answer(res, ServiceCodec.encode(all)));
  }

  /** A large answer is charged to the budget until the client has taken it. */
  private Mono<Void> answer(HttpServerResponse res, byte[] json) {
    return budget.holding(json.length, Responses.json(res, json))
        .onErrorResume(BufferBudget.ExhaustedException.class, e -> Bodies.refuse(res, e));
  }

  /**
   * A registry backed by etcd answers from a watched copy; say how old it is (whole seconds, like
   * HTTP's Age) so a client can tell a stale answer during an etcd outage from a fresh one.
   */
  private void age(HttpServerResponse res) {
    Duration age = registry.cacheAge();
    if (!age.isZero()) {
      res.header(CACHE_AGE, Long.toString(age.toSeconds()));
    }
  }

  /** Reads a Service whatever the Content-Type (curl -d sends form-urlencoded) and applies it. */
  private Mono<Void> write(HttpServerRequest req, HttpServerResponse res,
                           Function<Service, Mono<Void>> action) {
    return bodies.read(req)
        .map(ServiceCodec::decodeRegistration)
        .flatMap(action)
        .then(Mono.defer(() -> Responses.ok(res)))
        .onErrorResume(InvalidServiceException.class,
            e -> Responses.text(res, HttpResponseStatus.BAD_REQUEST, e.getMessage()))
        .onErrorResume(Bodies::refused, e -> Bodies.refuse(res, e))
        .onErrorResume(e -> !(e instanceof InvalidServiceException) && !Responses.clientGone(e), e -> {
          log.warn("{} /registry failed: {}", req.method(), e.toString());
          return Responses.text(res, HttpResponseStatus.SERVICE_UNAVAILABLE, "registry unavailable: " + Responses.reason(e));
        });
  }

  /** Absent or empty means no TTL; anything else must be a positive Go duration. */
  static Duration ttl(String text) {
    if (text == null || text.isEmpty()) {
      return Registry.NO_TTL;
    }
    Duration ttl = GoDuration.parse(text);
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("'" + text + "' (expected: a positive duration like 30s)");
    }
    return ttl;
  }

  private static boolean isUpgrade(HttpServerRequest req) {
    return req.requestHeaders().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
  }
}
