package io.micro.sidecar.server.http;

import io.micro.sidecar.core.text.Shown;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One request taken by the {@link DirectPath}, from its head to its answer: the body read whole into
 * one array of its declared length (reserved in the budget until the exchange ends), then handed to
 * {@link #dispatch}, then answered exactly once, in one write and one flush, and recorded once. A
 * client that leaves first ends it as 499 ({@link #clientGone}).
 *
 * <p>Loop only, except {@link #answer}, which may be called from any thread and moves to the loop.
 */
abstract class DirectExchange {

  private static final byte[] EMPTY = new byte[0];
  /**
   * Headers of the messages this path makes: every name is a constant or came through a Netty decoder,
   * which validated it, so they are not validated again. The messages have no trailers: they share
   * {@link EmptyHttpHeaders#INSTANCE}.
   */
  static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  final DirectPath path;
  final ChannelHandlerContext ctx;
  final HttpMethod method;
  final String uri;
  final HttpHeaders headers;
  private final DirectHandler handler;
  private final boolean keepAlive;
  private final long start;
  private final int reserved;
  private byte[] body;
  private int size;
  private boolean reading = true;
  /** A streamed answer's head is out; its body is being written. */
  private boolean answering;
  private int status;
  private long bytes;
  private boolean close;
  private boolean ended;
  /** The request could not be read whole: the connection closes after the answer. */
  private boolean broken;

  DirectExchange(DirectPath path, ChannelHandlerContext ctx, DirectHandler handler, HttpRequest req, boolean keepAlive,
                 int length, long start) {
    this.path = path;
    this.ctx = ctx;
    this.handler = handler;
    this.method = req.method();
    this.uri = req.uri();
    this.headers = req.headers();
    this.keepAlive = keepAlive;
    this.start = start;
    this.reserved = length;
    this.body = length == 0 ? EMPTY : new byte[length];
  }

  /** The body is still arriving. */
  final boolean reading() {
    return reading;
  }

  /** A part of the body, released here; the last one dispatches the request. */
  final void add(HttpContent part) {
    try {
      ByteBuf bytes = part.content();
      int n = Math.min(bytes.readableBytes(), body.length - size);
      bytes.getBytes(bytes.readerIndex(), body, size, n);
      size += n;
    } finally {
      part.release();
    }
    if (part instanceof LastHttpContent last) {
      reading = false;
      if (last.decoderResult().isFailure()) {
        // the decoder is past recovering on this connection: answer, then close it
        broken = true;
        answer(HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8",
            ("malformed request body: " + Shown.line(last.decoderResult().cause().getMessage()) + "\n")
                .getBytes(StandardCharsets.UTF_8), false);
        return;
      }
      byte[] whole = body;
      body = null;
      dispatch(whole);
    }
  }

  /** The request is all in: serve it, ending with {@link #answer}. */
  abstract void dispatch(byte[] body);

  /** The client left: whatever is under way for it is dropped. */
  abstract void cancel();

  /** The client's socket can take more again. */
  void writable() {
  }

  /**
   * Starts a streamed answer with its head, written but not flushed; {@link #continued} writes the
   * body. Loop only.
   *
   * @param bytes the declared body length, -1 when it streams without one
   */
  final void begin(HttpResponse head, int status, long bytes) {
    if (ended || answering) {
      return;
    }
    answering = true;
    this.status = status;
    this.bytes = bytes;
    close = !keepAlive || path.draining();
    if (close) {
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ctx.write(head, ctx.voidPromise());
  }

  /** A part of a streamed answer's body; the last flushes and ends the exchange. Loop only. */
  final void continued(HttpContent part, boolean last) {
    if (!last) {
      ctx.write(part, ctx.voidPromise());
      return;
    }
    if (close) {
      ctx.writeAndFlush(part).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(part, ctx.voidPromise());
    }
    if (!ended) {
      ended = true;
      end(status, bytes);
      if (!close) {
        handler.answered(ctx, this);
      }
    }
  }

  /**
   * Writes the one answer, from any thread; the connection closes after it when the client or a drain
   * asks. {@code contentType} null: none (an empty answer).
   */
  final void answer(HttpResponseStatus status, CharSequence contentType, byte[] bytes, boolean retryAfter) {
    if (!ctx.executor().inEventLoop()) {
      ctx.executor().execute(() -> answer(status, contentType, bytes, retryAfter));
      return;
    }
    if (ended || answering) {
      return;
    }
    ended = true;
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes),
        HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
    HttpHeaders h = res.headers();
    path.guard.cors(headers, h);
    if (contentType != null) {
      h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    if (retryAfter) {
      h.set(HttpHeaderNames.RETRY_AFTER, "1");
    }
    boolean close = !keepAlive || broken || path.draining();
    if (close) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(res, ctx.voidPromise());
    }
    end(status.code(), bytes.length);
    if (!close) {
      handler.answered(ctx, this);
    }
  }

  /** Called by the handler when the connection closes first. */
  final void clientGone() {
    if (!ended) {
      ended = true;
      cancel();
      // an answer cut while streaming is counted with the status it started with
      end(answering ? status : 499, answering ? bytes : 0);
    }
  }

  private void end(int status, long bytes) {
    path.budget.release(reserved);
    path.ended();
    path.recorder.record(method.name(), uri, (InetSocketAddress) ctx.channel().remoteAddress(), headers, status, bytes,
        start);
  }
}
