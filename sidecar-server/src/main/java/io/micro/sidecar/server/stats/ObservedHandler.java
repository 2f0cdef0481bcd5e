package io.micro.sidecar.server.stats;

import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Outermost around everything reactor-netty serves: prepares trace context and hears how every
 * request ended in {@code doFinally}, which covers complete, error and cancel, so the guard's
 * refusals (401, 403, OPTIONS, 400) are counted and logged like any other answer.
 *
 * <p>The status counted is the one answered: what the handler set on the response, or, when the
 * handler failed before sending headers, the 500 reactor-netty then sends; a client that went away
 * before any answer (cancelling the handler, or failing it by closing) is counted as 499 (nginx's
 * "client closed request"); an accepted WebSocket upgrade as 101, when its session ends. Requests
 * reactor-netty refuses before any handler runs (a malformed request line, say) are not seen.
 */
final class ObservedHandler implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

  private final Telemetry telemetry;
  private final BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> next;

  ObservedHandler(Telemetry telemetry, BiFunction<HttpServerRequest, HttpServerResponse, ? extends Publisher<Void>> next) {
    this.telemetry = telemetry;
    this.next = next;
  }

  @Override
  public Publisher<Void> apply(HttpServerRequest req, HttpServerResponse res) {
    long start = telemetry.begin(req.requestHeaders());
    Mono<Void> handled;
    try {
      handled = Mono.from(next.apply(req, res));
    } catch (RuntimeException e) {
      handled = Mono.error(e);
    }
    return handled.doFinally(signal -> {
      int status = status(req, res, signal);
      telemetry.record(req.method().name(), req.uri(), req.remoteAddress(), req.requestHeaders(), status,
          bytes(res, status), start);
    });
  }

  static int status(HttpServerRequest req, HttpServerResponse res, SignalType signal) {
    if (!res.hasSentHeaders()) {
      if (signal == SignalType.CANCEL || (signal == SignalType.ON_ERROR && closed(res))) {
        return 499;
      }
      if (signal == SignalType.ON_ERROR) {
        return 500;
      }
    }
    int status = res.status().code();
    return status == 200 && req.isWebsocket() ? 101 : status;
  }

  /** The client's connection is gone: a failure then is the client leaving, not a 500. */
  private static boolean closed(HttpServerResponse res) {
    boolean[] closed = {false};
    res.withConnection(c -> closed[0] = !c.channel().isActive());
    return closed[0];
  }

  /** The body's length as declared; -1 when it was streamed without one. */
  static long bytes(HttpServerResponse res, int status) {
    if (status == 101 || status == 499) {
      return 0;
    }
    String length = res.responseHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
    if (length == null) {
      return -1;
    }
    try {
      return Long.parseLong(length);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
