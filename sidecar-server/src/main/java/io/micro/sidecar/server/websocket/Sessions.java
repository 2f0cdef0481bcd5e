package io.micro.sidecar.server.websocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * The open WebSocket sessions of every handler, so that shutdown can close them all with 1001
 * (going away) before it waits for in-flight requests. Thread-safe.
 */
public final class Sessions {

  public static final int GOING_AWAY = 1001;

  private final Set<WebsocketOutbound> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  /** Runs {@code session} as a tracked session of {@code out}; a session opened during shutdown is closed at once. */
  public Publisher<Void> track(WebsocketOutbound out, Publisher<Void> session) {
    if (closing) {
      return out.sendClose(GOING_AWAY, "sidecar shutting down");
    }
    open.add(out);
    return Flux.from(session).doFinally(s -> open.remove(out));
  }

  public int size() {
    return open.size();
  }

  /** Sends every open session a close with 1001; completes when the frames are written. */
  public Mono<Void> closeAll() {
    closing = true;
    return Flux.fromIterable(open)
        .flatMap(out -> out.sendClose(GOING_AWAY, "sidecar shutting down").onErrorResume(e -> Mono.empty()))
        .then();
  }
}
