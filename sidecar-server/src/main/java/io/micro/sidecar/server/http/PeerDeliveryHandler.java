package io.micro.sidecar.server.http;

import io.micro.sidecar.core.broker.HttpBroker;
import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.broker.MessageCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code POST /_sub?id=<node id>} (contract §7.4): a message another sidecar (or a go-micro service
 * using the http broker) delivers to this sidecar's subscribers, as
 * {@code {"Header":{..,":topic":"t"},"Body":"<base64>"}}. It goes to local subscribers only, never on
 * to other sidecars. 200 once it is in their buffers; 400 for a body that is not such a message, 404
 * for a node id this sidecar does not hold (any more).
 */
final class PeerDeliveryHandler {

  private final HttpBroker broker;
  private final Bodies bodies;

  PeerDeliveryHandler(HttpBroker broker, Bodies bodies) {
    this.broker = broker;
    this.bodies = bodies;
  }

  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res, QueryStringDecoder uri) {
    if (!req.method().equals(HttpMethod.POST)) {
      return Responses.methodNotAllowed(res, "POST");
    }
    List<String> ids = uri.parameters().get("id");
    if (ids == null || ids.isEmpty() || ids.get(0).isEmpty()) {
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST, "id: missing (expected: /_sub?id=<node id>)");
    }
    String id = ids.get(0);
    return bodies.read(req)
        .defaultIfEmpty(new byte[0])
        .flatMap(body -> {
          Message message;
          try {
            message = MessageCodec.decode(body);
          } catch (IllegalArgumentException e) {
            return Responses.text(res, HttpResponseStatus.BAD_REQUEST, e.getMessage());
          }
          return switch (broker.receive(id, message)) {
            case DELIVERED -> Responses.ok(res);
            case UNKNOWN_NODE -> Responses.text(res, HttpResponseStatus.NOT_FOUND,
                "id: " + id + " (expected: a topic node of this sidecar; its subscribers may have left)");
            case WRONG_TOPIC -> Responses.text(res, HttpResponseStatus.BAD_REQUEST,
                ":topic: " + message.header().get(HttpBroker.TOPIC_HEADER) + " (expected: the topic of node " + id + ")");
            case CLOSED -> Responses.text(res, HttpResponseStatus.SERVICE_UNAVAILABLE, "broker: closed (expected: a running sidecar)");
          };
        })
        .onErrorResume(Bodies::refused, e -> Bodies.refuse(res, e));
  }
}
