package io.micro.sidecar.server.websocket;

import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.client.Balancer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.Set;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * Proxies a WebSocket: connects to a node first (so a refused node can still be retried on another,
 * and a client is only upgraded once the app accepted), then upgrades the client and pipes frames
 * both ways. A close from either side is passed to the other with its code and reason.
 */
public final class WebSocketProxy {

  private static final int MAX_FRAME = 1024 * 1024;
  private static final Set<String> HANDSHAKE_HEADERS = Set.of(
      "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol");

  private final AppConnections connections;
  private final Balancer balancer;
  private final Sessions sessions;

  public WebSocketProxy(AppConnections connections, Balancer balancer, Sessions sessions) {
    this.connections = connections;
    this.balancer = balancer;
    this.sessions = sessions;
  }

  public Mono<Void> handle(HttpServerRequest req, HttpServerResponse res, String service) {
    String protocols = req.requestHeaders().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
    HttpHeaders forwarded = new DefaultHttpHeaders();
    AppConnections.forwardAll(req.requestHeaders(), forwarded);
    HANDSHAKE_HEADERS.forEach(forwarded::remove);
    WebsocketClientSpec.Builder client = WebsocketClientSpec.builder().maxFramePayloadLength(MAX_FRAME).handlePing(false);
    WebsocketServerSpec.Builder server = WebsocketServerSpec.builder().maxFramePayloadLength(MAX_FRAME).handlePing(false);
    if (protocols != null) {
      client.protocols(protocols);
      server.protocols(protocols);
    }
    return balancer.call(service, node -> connections.http().headers(h -> h.add(forwarded))
            .websocket(client.build())
            .uri("ws" + connections.uri(node.target().host(), node.target().port(), req.uri()).substring(4))
            .handle((appIn, appOut) -> {
              // sendWebsocket completes once the client is upgraded; the app side must live until the pipe ends
              Sinks.Empty<Void> done = Sinks.empty();
              return res.sendWebsocket((in, out) -> Mono.from(sessions.track(in, out, pipe(in, out, appIn, appOut)))
                      .doFinally(s -> done.tryEmitEmpty()), server.build())
                  .then(done.asMono());
            })
            .then(Mono.just(101)),
        status -> false)
        .then();
  }

  /**
   * Frames flow both ways; a close from one side is sent on to the other with its code and reason.
   * Nothing is cancelled early (a cancelled side would send a close of its own and race the real
   * one): the session ends when both directions have ended, which a close handshake brings about.
   */
  private static Mono<Void> pipe(WebsocketInbound clientIn, WebsocketOutbound clientOut,
                                 WebsocketInbound appIn, WebsocketOutbound appOut) {
    Mono<Void> toApp = appOut.sendObject(clientIn.receiveFrames()
            .filter(f -> !(f instanceof CloseWebSocketFrame))
            .map(WebSocketFrame::retain))
        .then()
        .onErrorResume(e -> Mono.empty());
    Mono<Void> toClient = clientOut.sendObject(appIn.receiveFrames()
            .filter(f -> !(f instanceof CloseWebSocketFrame))
            .map(WebSocketFrame::retain))
        .then()
        .onErrorResume(e -> Mono.empty());
    Mono<Void> clientClosed = clientIn.receiveCloseStatus()
        .flatMap(s -> appOut.sendClose(s.code(), s.reasonText()))
        .onErrorResume(e -> Mono.empty());
    Mono<Void> appClosed = appIn.receiveCloseStatus()
        .flatMap(s -> clientOut.sendClose(s.code(), s.reasonText()))
        .onErrorResume(e -> Mono.empty());
    return Mono.when(toApp, toClient, clientClosed, appClosed);
  }
}
