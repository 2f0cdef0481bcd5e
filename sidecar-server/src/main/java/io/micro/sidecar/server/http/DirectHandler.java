package io.micro.sidecar.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One connection's switch between the {@link DirectPath} and reactor-netty, just before reactor-netty's
 * HTTP handler. A request the direct path takes never reaches reactor-netty; its answer is written
 * from here, so it never passes reactor-netty's handler either. Requests keep their order: one is
 * taken only when no answer of either path is pending, and messages that arrive while a taken request
 * is answered (HTTP pipelining) wait here and are replayed after it. Reads are requested as
 * reactor-netty does (the channel does not read on its own): while a taken request is answered
 * nothing more is read.
 *
 * <p>Once reactor-netty answers 101, the connection speaks WebSocket and this handler leaves the
 * pipeline. Event loop only.
 */
final class DirectHandler extends ChannelDuplexHandler {

  private final DirectPath path;
  /** Requests handed to reactor-netty whose answers are not all written yet. */
  private int passed;
  /** The reactor-netty answer being written is a 1xx, which does not end its request. */
  private boolean informational;
  /** The request this handler reads or answers; null when none. */
  private DirectExchange current;
  /** Messages that came in behind {@link #current} while it was being answered. */
  private ArrayDeque<Object> held;
  /** {@link #answered} is replaying {@link #held}. */
  private boolean replaying;

  DirectHandler(DirectPath path) {
    this.path = path;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (current != null) {
      DirectExchange ex = current;
      if (ex.reading() && msg instanceof HttpContent content && !(msg instanceof HttpRequest)) {
        // the body completing may answer at once (a malformed request), replaying what was held
        ex.add(content);
        if (ex.reading()) {
          ctx.read();
        }
      } else {
        hold(msg);
      }
      return;
    }
    if (msg instanceof HttpRequest req) {
      DirectExchange ex = passed == 0 ? path.take(ctx, this, req) : null;
      if (ex != null) {
        current = ex;
        if (msg instanceof HttpContent content) {
          ex.add(content);
        }
        if (ex.reading()) {
          ctx.read();
        }
        return;
      }
      passed++;
    }
    ctx.fireChannelRead(msg);
  }

  private void hold(Object msg) {
    if (held == null) {
      held = new ArrayDeque<>(4);
    }
    held.add(msg);
  }

  /**
   * {@link #current} is answered: what was held is replayed, or the next request read. A replayed
   * request answered at once (a malformed one) comes back here while the replay runs; the loop, not
   * the stack, then goes on to the next.
   */
  void answered(ChannelHandlerContext ctx, DirectExchange ex) {
    if (current != ex) {
      return;
    }
    current = null;
    if (replaying) {
      return;
    }
    replaying = true;
    try {
      while (held != null && !held.isEmpty() && (current == null || current.reading())) {
        channelRead(ctx, held.poll());
      }
    } finally {
      replaying = false;
    }
    if (current == null && (held == null || held.isEmpty()) && ctx.channel().isActive()) {
      ctx.read();
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    // only reactor-netty's answers pass here: the direct path writes from this handler's context
    if (msg instanceof HttpResponse r) {
      if (r.status().code() == 101) {
        ctx.write(msg, promise);
        ctx.pipeline().remove(this);
        return;
      }
      informational = r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
    }
    if (msg instanceof LastHttpContent && !informational && passed > 0) {
      passed--;
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (current != null) {
      current.writable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (current != null) {
      DirectExchange ex = current;
      current = null;
      ex.clientGone();
    }
    release();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  private void release() {
    if (held != null) {
      for (Object msg; (msg = held.poll()) != null; ) {
        ReferenceCountUtil.release(msg);
      }
    }
  }
}
