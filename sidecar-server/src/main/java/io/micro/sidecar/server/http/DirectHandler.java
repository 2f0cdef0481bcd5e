package io.micro.sidecar.server.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One connection's switch between the {@link DirectPath} and reactor-netty, just before reactor-netty's
 * HTTP handler. A request the direct path takes never reaches reactor-netty; its answer is written
 * from here, so it never passes reactor-netty's handler either. Requests keep their order: the next
 * request is looked at only once the one before it is done, by either path, and what arrives meanwhile
 * (HTTP pipelining) waits here and is replayed then. So reactor-netty never sees a pipelined request:
 * its own queue drops a request that asks to close the connection behind an answer it has not
 * finished (it then closes after that answer), and on a transport whose writes complete later, as
 * io_uring's do, it never answers it. Reads are requested as reactor-netty does (the channel does not
 * read on its own): while a taken request is answered nothing more is read.
 *
 * <p>Once reactor-netty answers 101, the connection speaks WebSocket and this handler leaves the
 * pipeline. Event loop only.
 */
final class DirectHandler extends ChannelDuplexHandler {

  private final DirectPath path;
  /**
   * reactor-netty's event for an exchange that has ended (its answer written, its request read): only
   * then does it take the next request as a new one. Package-private in reactor-netty, so named here.
   */
  private static final String TERMINATED = "reactor.netty.http.server.HttpServerOperationsTerminatedEvent";

  /** A request was handed to reactor-netty and its exchange has not ended yet (there is at most one). */
  private boolean passed;
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
    if (!replaying && held != null && !held.isEmpty() || waits(msg)) {
      hold(msg);
      return;
    }
    if (current != null) {
      // the body completing may answer at once (a malformed request), replaying what was held
      DirectExchange ex = current;
      ex.add((HttpContent) msg);
      if (ex.reading()) {
        ctx.read();
      }
      return;
    }
    if (msg instanceof HttpRequest req) {
      DirectExchange ex = path.take(ctx, this, req);
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
      passed = true;
    }
    ctx.fireChannelRead(msg);
  }

  /** Whether {@code msg}, next in order, waits for the request before it: all but that request's own body. */
  private boolean waits(Object msg) {
    if (current != null) {
      return !(current.reading() && msg instanceof HttpContent && !(msg instanceof HttpRequest));
    }
    return passed && msg instanceof HttpRequest;
  }

  private void hold(Object msg) {
    if (held == null) {
      held = new ArrayDeque<>(4);
    }
    held.add(msg);
  }

  /** {@link #current} is answered: what was held is replayed, or the next request read. */
  void answered(ChannelHandlerContext ctx, DirectExchange ex) {
    if (current != ex) {
      return;
    }
    current = null;
    replay(ctx);
  }

  /**
   * Replays what was held up to the next message that has to wait. A replayed request answered at once
   * (a malformed one, or one reactor-netty answers before it returns) comes back here while the replay
   * runs; the loop, not the stack, then goes on to the next.
   */
  private void replay(ChannelHandlerContext ctx) {
    if (replaying) {
      return;
    }
    replaying = true;
    try {
      while (held != null && !held.isEmpty() && !waits(held.peek())) {
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
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (passed && evt.getClass().getName().equals(TERMINATED)) {
      passed = false;
      ctx.fireUserEventTriggered(evt);
      if (held != null && !held.isEmpty() && !replaying) {
        // reactor-netty is still inside the ended exchange's clean-up: the next request starts after it
        ctx.executor().execute(() -> replay(ctx));
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    // only reactor-netty's answers pass here: the direct path writes from this handler's context
    if (msg instanceof HttpResponse r && r.status().code() == 101) {
      ctx.write(msg, promise);
      ctx.pipeline().remove(this);
      return;
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
