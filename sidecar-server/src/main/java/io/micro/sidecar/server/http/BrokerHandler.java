package io.micro.sidecar.server.http;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.text.Shown;
import io.micro.sidecar.server.websocket.BrokerSocketHandler;
import io.micro.sidecar.server.websocket.FanOut;
import io.micro.sidecar.server.websocket.Sessions;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** {@code /broker} (contract §7): POST publishes the body, GET with an upgrade subscribes over a WebSocket. */
final class BrokerHandler {

  private static final Logger log = LoggerFactory.getLogger(BrokerHandler.class);

  private final Broker broker;
  private final Bodies bodies;
  private final BrokerSocketHandler socket;

  BrokerHandler(Broker broker, Bodies bodies, Sessions sessions,
                FanOut fanOut) {
    this.broker = broker;
    this.bodies = bodies;
    this.socket = new BrokerSocketHandler(broker, sessions, fanOut);
  }

  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res, QueryStringDecoder uri) {
    HttpMethod method = req.method();
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.POST)) {
      return Responses.methodNotAllowed(res, "GET, POST");
    }
    String topic = Routes.param(uri, "topic");
    if (topic == null) {
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST, "Topic not specified");
    }
    String queue = Routes.param(uri, "queue");
    boolean topicOk = Broker.validTopic(topic);
    if (!topicOk || (queue != null && !Broker.validTopic(queue))) {
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST, (topicOk ? "queue: " : "topic: ")
          + Shown.line(topicOk ? queue : topic)
          + " (expected: 1 to " + Broker.MAX_TOPIC + " characters, no control characters)");
    }
    if (method.equals(HttpMethod.POST)) {
      return publish(req, res, topic);
    }
    if (!req.requestHeaders().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST,
          "broker: GET needs a WebSocket upgrade (expected: Upgrade: websocket to subscribe, or POST to publish)");
    }
    return socket.handle(res, topic, queue, req.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE));
  }

  private Mono<Void> publish(HttpServerRequest req, HttpServerResponse res, String topic) {
    Map<String, String> header = header(req.requestHeaders());
    return bodies.read(req)
        .flatMap(body -> broker.publish(topic, new Message(header, body)))
        .then(Mono.defer(() -> Responses.ok(res)))
        .onErrorResume(Bodies::refused, e -> Bodies.refuse(res, e))
        .onErrorResume(e -> !Bodies.refused(e) && !Responses.clientGone(e), e -> {
          failed(topic, e);
          return Responses.text(res, HttpResponseStatus.SERVICE_UNAVAILABLE, e.getMessage());
        });
  }

  static void failed(String topic, Throwable e) {
    log.warn("POST /broker?topic={} failed: {}", topic, e.toString());
  }

  /**
   * Every request header, as Go's server hands them to a handler: names in canonical form
   * ({@code content-type} → {@code Content-Type}), the first value of each, without {@code Host}
   * and {@code Transfer-Encoding}, which Go takes out of the header map.
   */
  static Map<String, String> header(HttpHeaders headers) {
    Map<String, String> header = new HashMap<>();
    for (Map.Entry<String, String> e : headers) {
      String name = canonical(e.getKey());
      if (!name.equals("Host") && !name.equals("Transfer-Encoding")) {
        header.putIfAbsent(name, e.getValue());
      }
    }
    return header;
  }

  /** Go's {@code textproto.CanonicalMIMEHeaderKey} for the token names Netty lets through. */
  static String canonical(String name) {
    char[] c = name.toCharArray();
    boolean upper = true;
    for (int i = 0; i < c.length; i++) {
      if (upper && c[i] >= 'a' && c[i] <= 'z') {
        c[i] -= 'a' - 'A';
      } else if (!upper && c[i] >= 'A' && c[i] <= 'Z') {
        c[i] += 'a' - 'A';
      }
      upper = c[i] == '-';
    }
    return new String(c);
  }

}
