package io.micro.sidecar.server.websocket;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * The open WebSocket sessions of every handler, so that shutdown can close them all with 1001
 * (going away) before it waits for in-flight requests. Thread-safe.
 *
 * <p>A session whose close handshake has begun (the client's close arrived, or one was sent) is not
 * sent another close: reactor-netty allocates the frame before it checks, and leaks it when a close
 * was already sent. The check and the send run on the session's event loop, where reactor-netty
 * handles the client's close, so the two cannot interleave.
 */
public final class Sessions {

  public static final int GOING_AWAY = 1001;

  /** Each open session and whether its close handshake has begun. */
  private final Map<WebsocketOutbound, boolean[]> open = new ConcurrentHashMap<>();
  private volatile boolean closing;

  /** Runs {@code session} as a tracked session of {@code out}; a session opened during shutdown is closed at once. */
  public Publisher<Void> track(WebsocketInbound in, WebsocketOutbound out, Publisher<Void> session) {
    if (closing) {
      return out.sendClose(GOING_AWAY, "sidecar shutting down");
    }
    boolean[] closed = {false};
    open.put(out, closed);
    // set on the event loop when the close handshake begins, either way
    in.receiveCloseStatus().subscribe(status -> closed[0] = true, e -> closed[0] = true, () -> closed[0] = true);
    return Flux.from(session).doFinally(s -> open.remove(out));
  }

  public int size() {
    return open.size();
  }

  /** Sends every open session a close with 1001; completes when the frames are written. */
  public Mono<Void> closeAll() {
    closing = true;
    return Flux.fromIterable(open.entrySet())
        .flatMap(e -> closeOnItsLoop(e.getKey(), e.getValue()))
        .then();
  }

  private static Mono<Void> closeOnItsLoop(WebsocketOutbound out, boolean[] closed) {
    Sinks.Empty<Void> done = Sinks.empty();
    out.withConnection(c -> {
      try {
        c.channel().eventLoop().execute(() -> {
          if (closed[0] || !c.channel().isActive()) {
            done.tryEmitEmpty();
            return;
          }
          closed[0] = true;
          out.sendClose(GOING_AWAY, "sidecar shutting down")
              .subscribe(null, e -> done.tryEmitEmpty(), done::tryEmitEmpty);
        });
      } catch (RejectedExecutionException e) {
        // its event loop is already gone, and the connection with it
        done.tryEmitEmpty();
      }
    });
    return done.asMono();
  }
}
