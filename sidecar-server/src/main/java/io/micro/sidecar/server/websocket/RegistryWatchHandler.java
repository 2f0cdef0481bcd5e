package io.micro.sidecar.server.websocket;

import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.ServiceCodec;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;

/**
 * The registry watch over a WebSocket (contract §3): one text frame
 * {@code {"Action":..,"Service":..}} per change, optionally for one service only.
 *
 * <p>A watcher that falls more than the registry's watch buffer behind is closed with 1013 (try
 * again later) so it re-reads the registry instead of silently missing changes.
 */
public final class RegistryWatchHandler {

  private static final WebsocketServerSpec SPEC = WebsocketServerSpec.builder().maxFramePayloadLength(16 * 1024).build();

  private final Registry registry;
  private final Sessions sessions;

  public RegistryWatchHandler(Registry registry, Sessions sessions) {
    this.registry = registry;
    this.sessions = sessions;
  }

  public Mono<Void> handle(HttpServerResponse res, String service) {
    return res.sendWebsocket((in, out) -> {
      // Reading the inbound side tells us when the client leaves; reactor-netty releases each frame once
      // it has been seen. Nothing here may drop a frame: an operator that drops one (then(), count(),
      // filter()) discards it, and reactor-netty's discard hook releases it, so the release that follows
      // fails and kills the watch. Mapping each frame to a token hands nothing on to be discarded.
      Mono<Void> gone = in.receiveFrames().map(frame -> Boolean.TRUE).then();
      return sessions.track(in, out, out.sendObject(registry.watch()
              .filter(e -> service == null || service.equals(e.service().name()))
              .map(e -> new TextWebSocketFrame(Unpooled.wrappedBuffer(ServiceCodec.encode(e))))
              .takeUntilOther(gone))
          .then()
          .onErrorResume(Exceptions::isOverflow, e -> out.sendClose(1013, "watch fell behind; list again")));
    }, SPEC);
  }
}
