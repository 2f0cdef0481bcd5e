package io.micro.sidecar.server.http;

import io.micro.sidecar.core.rpc.MicroError;
import io.micro.sidecar.core.text.Shown;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeoutException;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** The few shapes of answer the sidecar gives: one line of text, JSON bytes, or nothing. */
public final class Responses {

  private Responses() {}

  /** A one-line plain-text answer, newline-terminated as Go's {@code http.Error} writes it. */
  public static Mono<Void> text(HttpServerResponse res, HttpResponseStatus status, String line) {
    byte[] body = (line + "\n").getBytes(StandardCharsets.UTF_8);
    return res.status(status)
        .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff")
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .send(Mono.just(Unpooled.wrappedBuffer(body)))
        .then();
  }

  /** 200 with these bytes as {@code contentType}. */
  public static Mono<Void> bytes(HttpServerResponse res, String contentType, byte[] body) {
    return res.status(HttpResponseStatus.OK)
        .header(HttpHeaderNames.CONTENT_TYPE, contentType)
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .send(Mono.just(Unpooled.wrappedBuffer(body)))
        .then();
  }

  public static Mono<Void> json(HttpServerResponse res, byte[] body) {
    return res.status(HttpResponseStatus.OK)
        .header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .send(Mono.just(Unpooled.wrappedBuffer(body)))
        .then();
  }

  /**
   * A micro error as JSON with its code as the HTTP status. An app may send any positive code; one
   * that is not an HTTP status (say 999) is answered as 500 with the error passed on unchanged.
   */
  public static Mono<Void> error(HttpServerResponse res, MicroError error) {
    int code = error.code() >= 200 && error.code() <= 599 ? error.code() : 500;
    byte[] body = error.toJson();
    return res.status(HttpResponseStatus.valueOf(code))
        .header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .send(Mono.just(Unpooled.wrappedBuffer(body)))
        .then();
  }

  /**
   * Why something failed, for a client: the message without Java class names. A registry that gave up
   * retrying etcd says so rather than naming Reactor's exception.
   */
  public static String reason(Throwable e) {
    if (Exceptions.isRetryExhausted(e)) {
      return "etcd unreachable" + (e.getCause() == null || e.getCause().getMessage() == null
          ? "" : " (" + Shown.line(e.getCause().getMessage()) + ")");
    }
    if (e instanceof TimeoutException) {
      return "timed out";
    }
    return e.getMessage() == null ? "internal error" : Shown.line(e.getMessage());
  }

  /** The client closed its connection: there is no one to answer and nothing went wrong here (counted 499). */
  public static boolean clientGone(Throwable e) {
    return e instanceof AbortedException;
  }

  /** The connection a request came in on: calls it makes to apps stay on its event loop. */
  public static Channel channel(HttpServerRequest req) {
    // reactor-netty's request is its connection's operations: a cast, not a callback per request
    if (req instanceof Connection c) {
      return c.channel();
    }
    Channel[] channel = {null};
    req.withConnection(c -> channel[0] = c.channel());
    return channel[0];
  }

  /** 200 with an empty body. */
  public static Mono<Void> ok(HttpServerResponse res) {
    return res.status(HttpResponseStatus.OK)
        .header(HttpHeaderNames.CONTENT_LENGTH, "0")
        .send();
  }

  public static Mono<Void> methodNotAllowed(HttpServerResponse res, String allow) {
    res.header(HttpHeaderNames.ALLOW, allow);
    return text(res, HttpResponseStatus.METHOD_NOT_ALLOWED, "Method not allowed");
  }
}
