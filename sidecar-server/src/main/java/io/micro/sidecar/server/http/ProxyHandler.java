package io.micro.sidecar.server.http;

import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.metrics.CallOutcome;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.client.Balancer;
import io.micro.sidecar.core.rpc.RpcException;
import io.micro.sidecar.server.websocket.Sessions;
import io.micro.sidecar.server.websocket.WebSocketProxy;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The catch-all route with {@code --handler=proxy} (contract §5): {@code /<svc>/...} is proxied as
 * plain HTTP to a node of {@code <namespace>.<svc>} ({@code /v1/<svc>/...} to
 * {@code <namespace>.v1.<svc>}), keeping path, query, method, headers and body, streaming both ways,
 * and adding {@code X-Forwarded-For/-Proto/-Host}. WebSocket upgrades go to {@link WebSocketProxy}.
 *
 * <p>The deadline ({@code --client_request_timeout}) bounds the wait for the app's response headers
 * once the request is all sent: neither a long upload nor the streaming of a long answer counts. Errors are one line of text: 404 unknown service, 503 no node or
 * connection refused, 502 a broken exchange, 504 no answer in time.
 */
final class ProxyHandler {

  private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);
  private static final Pattern VERSION = Pattern.compile("v[0-9]+");

  private final Balancer balancer;
  private final AppConnections connections;
  private final String namespace;
  private final Duration deadline;
  private final WebSocketProxy websockets;
  private final CallObserver observer;

  ProxyHandler(AppConnections connections, Balancer balancer, String namespace, Duration deadline,
               Sessions sessions) {
    this.balancer = balancer;
    this.connections = connections;
    this.deadline = deadline;
    this.namespace = namespace;
    this.websockets = new WebSocketProxy(connections, balancer, sessions);
    this.observer = connections.observer();
  }

  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res, String path) {
    String service = service(path);
    if (service == null) {
      return Responses.text(res, HttpResponseStatus.NOT_FOUND, "404 page not found");
    }
    if (req.requestHeaders().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
      return websockets.handle(req, res, service).onErrorResume(e -> failed(req, res, e));
    }
    return observed(service, balancer.call(service, node -> forward(req, res, node), status -> status >= 500))
        .then()
        .onErrorResume(e -> failed(req, res, e));
  }

  /** Tells the observer how the call ended: the app's status, the failure, or the caller going away. */
  private Mono<Integer> observed(String service, Mono<Integer> call) {
    if (observer == CallObserver.NOOP) {
      return call;
    }
    return Mono.defer(() -> {
      long start = System.nanoTime();
      return call.doOnEach(signal -> {
        if (signal.isOnNext()) {
          observer.called(service, signal.get() >= 500 ? CallOutcome.ERROR : CallOutcome.OK, System.nanoTime() - start);
        } else if (signal.isOnError()) {
          observer.called(service, outcome(signal.getThrowable()), System.nanoTime() - start);
        }
      }).doOnCancel(() -> observer.called(service, CallOutcome.CANCELLED, System.nanoTime() - start));
    });
  }

  private static CallOutcome outcome(Throwable e) {
    if (e instanceof RpcException rpc) {
      return CallOutcome.ofErrorCode(rpc.error().code());
    }
    if (e instanceof ReadTimeoutException || e instanceof TimeoutException) {
      return CallOutcome.TIMEOUT;
    }
    return Balancer.neverReached(e) ? CallOutcome.UNAVAILABLE : CallOutcome.UNREACHABLE;
  }

  /** {@code /foo/...} → {@code ns.foo}; {@code /v1/foo/...} → {@code ns.v1.foo}; null when there is no service part. */
  String service(String path) {
    return service(namespace, path);
  }

  static String service(String namespace, String path) {
    String[] parts = path.split("/");
    int i = 1;
    if (parts.length <= i || parts[i].isEmpty()) {
      return null;
    }
    String svc = parts[i];
    if (VERSION.matcher(svc).matches() && parts.length > i + 1 && !parts[i + 1].isEmpty()) {
      svc = svc + "." + parts[i + 1];
    }
    return namespace.isEmpty() ? svc : namespace + "." + svc;
  }

  /**
   * One attempt. The deadline covers the wait for the app's response headers only: the status is
   * emitted as soon as they arrive, then the body streams without a bound. (A Mono timeout rather
   * than the client's responseTimeout, which adds and removes a pipeline handler on every request.)
   */
  private Mono<Integer> forward(HttpServerRequest req, HttpServerResponse res, Node node) {
    return Mono.defer(() -> {
      // The deadline starts once the request is all sent, as Envoy's and nginx's do: a long upload to a
      // healthy app is not a slow answer.
      Sinks.Empty<Void> sent = Sinks.empty();
      return connections.http(Responses.channel(req).eventLoop()).request(req.method())
          .uri(connections.uri(node.target().host(), node.target().port(), req.uri()))
          .send((out, body) -> {
            forwardedHeaders(req, out.requestHeaders());
            // a body with a length goes on with that length, not re-framed as chunked (a Python
            // http.server app reads Content-Length only)
            String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
            if (length != null) {
              out.requestHeaders().set(HttpHeaderNames.CONTENT_LENGTH, length);
            }
            return body.send(req.receive().retain()).then().doOnSuccess(done -> sent.tryEmitEmpty());
          })
          .response((in, body) -> {
            res.status(in.status());
            copyResponseHeaders(in.responseHeaders(), res.responseHeaders());
            return Flux.concat(Mono.just(in.status().code()), Mono.from(res.send(body.retain())).then(Mono.empty()));
          })
          .timeout(sent.asMono().then(Mono.delay(deadline)), status -> Mono.never())
          .last();
    });
  }

  /** The caller's headers minus hop-by-hop ones, plus where the request came from. */
  static void forwardedHeaders(HttpServerRequest req, HttpHeaders to) {
    forwardedHeaders(req.requestHeaders(), req.remoteAddress(), req.scheme(), to);
  }

  static void forwardedHeaders(HttpHeaders from, InetSocketAddress remote, String scheme, HttpHeaders to) {
    AppConnections.forwardAll(from, to);
    String client = remote == null ? "unknown" : remote.getAddress().getHostAddress();
    String prior = from.get("X-Forwarded-For");
    to.set("X-Forwarded-For", prior == null ? client : prior + ", " + client);
    to.set("X-Forwarded-Proto", scheme);
    String host = from.get(HttpHeaderNames.HOST);
    if (host != null) {
      // the caller's Host is kept, as nginx with proxy_set_header Host $http_host and Envoy do
      to.set(HttpHeaderNames.HOST, host);
      to.set("X-Forwarded-Host", host);
    }
  }

  static void copyResponseHeaders(HttpHeaders from, HttpHeaders to) {
    // an app that answers CORS itself wins over the sidecar's defaults: two Allow-Origin headers break browsers
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence(); it.hasNext(); ) {
      CharSequence name = it.next().getKey();
      if (AsciiString.regionMatches(name, true, 0, "access-control-", 0, 15)
          || HttpHeaderNames.VARY.contentEqualsIgnoreCase(name)) {
        to.remove(name);
      }
    }
    // what is left in `to` is the sidecar's own CORS headers, none of which the app sent: nothing to replace
    AppConnections.forwardAll(from, to, false);
    // the app's framing decides ours: keep its Content-Length, else stream chunked
    String length = from.get(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null) {
      to.set(HttpHeaderNames.CONTENT_LENGTH, length);
    }
  }

  private static Mono<Void> failed(HttpServerRequest req, HttpServerResponse res, Throwable e) {
    if (res.hasSentHeaders()) {
      // the app's answer was already on its way: all that is left is to cut the connection
      log.debug("proxying {} {} broke after the response started: {}", req.method(), req.uri(), e.toString());
      return Mono.error(e);
    }
    if (e instanceof RpcException rpc) {
      int code = rpc.error().code();
      return Responses.text(res, HttpResponseStatus.valueOf(code == 404 || code == 503 ? code : 502), rpc.error().detail());
    }
    if (e instanceof ReadTimeoutException || e instanceof TimeoutException) {
      return Responses.text(res, HttpResponseStatus.GATEWAY_TIMEOUT, "app did not answer in time");
    }
    String cause = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return Balancer.neverReached(e)
        ? Responses.text(res, HttpResponseStatus.SERVICE_UNAVAILABLE, "app unreachable: " + cause)
        : Responses.text(res, HttpResponseStatus.BAD_GATEWAY, "app unreachable: " + cause);
  }
}
