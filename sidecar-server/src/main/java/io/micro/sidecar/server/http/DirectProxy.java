package io.micro.sidecar.server.http;

import io.micro.sidecar.core.client.Balancer;
import io.micro.sidecar.core.client.Callback;
import io.micro.sidecar.core.client.LoopClient;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.metrics.CallOutcome;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.rpc.RpcException;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeoutException;
import reactor.core.Disposable;

/**
 * The proxy handler's catch-all on the {@link DirectPath}: the request (whole, with its
 * {@code Content-Length}) goes to a node of the service in one write over the loop's own connection;
 * the answer streams back part by part, so an answer of any size passes through in bounded memory: when
 * the client stops taking it, the app is paused. A small answer arrives in one read and goes out in one
 * flush. Headers, errors and deadline as {@link ProxyHandler}.
 */
final class DirectProxy extends DirectExchange implements LoopClient.Receiver, Callback<HttpResponse> {

  private final String service;
  private final long startNanos = System.nanoTime();
  private Disposable call;
  private LoopClient.Upstream upstream;
  /** The head has gone to the client: failures now can only cut the connection. */
  private boolean streaming;
  private boolean done;

  DirectProxy(DirectPath path, ChannelHandlerContext ctx, DirectHandler handler, HttpRequest req, boolean keepAlive,
              int length, long start, String service) {
    super(path, ctx, handler, req, keepAlive, length, start);
    this.service = service;
  }

  @Override
  void dispatch(byte[] body) {
    long deadlineAt = System.nanoTime() + path.deadline.toNanos();
    call = path.balancer.call(service, (node, head) -> {
      HostPort to = node.target();
      return path.loopClient.stream(ctx.channel(), to.host(), to.port(), alloc -> request(node, body), deadlineAt, this,
          head);
    }, head -> head.status().code() >= 500, this);
  }

  private FullHttpRequest request(Node node, byte[] body) {
    FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.wrappedBuffer(body),
        HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
    HttpHeaders to = r.headers();
    ProxyHandler.forwardedHeaders(headers, (InetSocketAddress) ctx.channel().remoteAddress(),
        ctx.pipeline().get(SslHandler.class) != null ? "https" : "http", to);
    if (body.length > 0 || headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      to.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    }
    return r;
  }

  /** The answer's head: it goes to the client; its body follows through {@link #part}. */
  @Override
  public void succeeded(HttpResponse head) {
    observed(head.status().code() >= 500 ? CallOutcome.ERROR : CallOutcome.OK);
    if (done) {
      return;
    }
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status(), HEADERS);
    path.guard.cors(headers, out.headers());
    ProxyHandler.copyResponseHeaders(head.headers(), out.headers());
    int code = head.status().code();
    if (!HttpUtil.isContentLengthSet(head) && code != 204 && code != 304 && !method.equals(HttpMethod.HEAD)) {
      // the app framed its body otherwise (chunked, or until it closes): ours is chunked
      out.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    streaming = true;
    String length = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    begin(out, head.status().code(), length == null ? -1 : parse(length));
  }

  private static long parse(String length) {
    try {
      return Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public void opened(LoopClient.Upstream upstream) {
    // known from the head on, so that a client leaving before the first part still releases the app
    this.upstream = upstream;
  }

  @Override
  public void part(HttpContent part, LoopClient.Upstream upstream) {
    if (done || !ctx.channel().isActive()) {
      part.release();
      if (!(part instanceof LastHttpContent)) {
        upstream.abort();
      }
      return;
    }
    if (part instanceof LastHttpContent) {
      done = true;
      continued(part, true);
      return;
    }
    continued(part, false);
    if (!ctx.channel().isWritable()) {
      upstream.pause();
    }
  }

  @Override
  public void flush() {
    if (!done) {
      ctx.flush();
    }
  }

  @Override
  public void broken(Throwable cause) {
    if (!done) {
      done = true;
      // the head is out: all that is left is to cut the connection, as the client must see the answer broke
      ctx.close();
    }
  }

  /** The client's socket took what was queued: let the app go on. */
  @Override
  void writable() {
    // once done, the app's connection may already serve another exchange, whose pace is its own
    if (!done && upstream != null && ctx.channel().isWritable()) {
      upstream.resume();
    }
  }

  @Override
  public void failed(Throwable e) {
    observed(outcome(e));
    if (streaming) {
      broken(e);
      return;
    }
    HttpResponseStatus status;
    String line;
    if (e instanceof RpcException rpc) {
      int code = rpc.error().code();
      status = HttpResponseStatus.valueOf(code == 404 || code == 503 ? code : 502);
      line = rpc.error().detail();
    } else if (e instanceof TimeoutException) {
      status = HttpResponseStatus.GATEWAY_TIMEOUT;
      line = "app did not answer in time";
    } else {
      String cause = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      status = Balancer.neverReached(e) ? HttpResponseStatus.SERVICE_UNAVAILABLE
          : HttpResponseStatus.BAD_GATEWAY;
      line = "app unreachable: " + cause;
    }
    answer(status, "text/plain; charset=utf-8", (line + "\n").getBytes(StandardCharsets.UTF_8), false);
  }

  private static CallOutcome outcome(Throwable e) {
    if (e instanceof RpcException rpc) {
      return CallOutcome.ofErrorCode(rpc.error().code());
    }
    if (e instanceof TimeoutException) {
      return CallOutcome.TIMEOUT;
    }
    return Balancer.neverReached(e) ? CallOutcome.UNAVAILABLE : CallOutcome.UNREACHABLE;
  }

  private void observed(CallOutcome outcome) {
    CallObserver observer = path.observer;
    if (observer != CallObserver.NOOP) {
      observer.called(service, outcome, System.nanoTime() - startNanos);
    }
  }

  @Override
  void cancel() {
    done = true;
    if (call != null) {
      call.dispose();
    }
    if (upstream != null) {
      upstream.abort();
    }
  }
}
