package io.micro.sidecar.server.http;

import io.micro.sidecar.core.config.LimitsConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.ChannelPipelineConfigurer;
import reactor.netty.ConnectionObserver;

/**
 * Connection-level limits Reactor Netty has no setting for, so that no client holds a connection
 * longer than its request needs:
 *
 * <ul>
 *   <li>at most {@code maxConnections} open client connections (reactor-netty 1.3's
 *       {@code HttpServer.maxConnections} closes those over the limit the same way, but says so only
 *       at DEBUG, once per connection; this one warns, at most every 10 s, so that an operator sees the
 *       cap being reached);</li>
 *   <li>the header deadline: a new connection must deliver its first request's headers within
 *       {@code headerTimeout} of opening, and any later request within it of its first byte (a silent
 *       connection or a slow-loris client is dropped);</li>
 *   <li>the idle timeout: a keep-alive connection that sends no new request within {@code idleTimeout}
 *       of its last answer is closed (here rather than in reactor-netty, whose idle handler would also
 *       run, unseen, under requests the {@link DirectPath} serves);</li>
 *   <li>the body deadline: while a request body arrives, no pause may last {@code bodyTimeout},
 *       whether the client is slow to send it or a proxied app slow to take it (nginx's
 *       {@code client_body_timeout} and {@code proxy_send_timeout} in one);</li>
 *   <li>large answers are charged to the {@link BufferBudget} until the socket has taken them;</li>
 *   <li>the write stall: a connection whose client takes none of its answer for {@code idleTimeout}
 *       is closed, releasing what was queued for it.</li>
 * </ul>
 *
 * <p>All state is per channel and touched on its event loop only.
 */
public final class ConnectionLimits implements ChannelPipelineConfigurer {

  private static final Logger log = LoggerFactory.getLogger(ConnectionLimits.class);
  private static final String CODEC = "reactor.left.httpCodec";

  private final LimitsConfig limits;
  private final BufferBudget budget;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong lastRefusalLog = new AtomicLong();
  private final AtomicLong lastDecodeLog = new AtomicLong();
  private final LongAdder decodeFailures = new LongAdder();

  /** @param budget charged with large answers until their clients have taken them */
  public ConnectionLimits(LimitsConfig limits, BufferBudget budget) {
    this.limits = limits;
    this.budget = budget;
  }

  /**
   * One line per malformed request, at most one every 10 s with a count of those left out: a client
   * sending broken requests in a loop must not be able to flood the log (reactor-netty's own warning,
   * silenced in the logging setup, prints every header of the request).
   */
  private void decodeFailed(ChannelHandlerContext ctx, Throwable cause) {
    long now = System.nanoTime();
    long last = lastDecodeLog.get();
    if (now - last > TimeUnit.SECONDS.toNanos(10) && lastDecodeLog.compareAndSet(last, now)) {
      long more = decodeFailures.sumThenReset();
      log.warn("malformed request from {}: {}{}", ctx.channel().remoteAddress(), cause.getMessage(),
          more > 0 ? " (" + more + " more since the last such line)" : "");
    } else {
      decodeFailures.increment();
    }
  }

  @Override
  public void onChannelInit(ConnectionObserver observer, Channel channel, SocketAddress remote) {
    if (open.incrementAndGet() > limits.maxConnections()) {
      open.decrementAndGet();
      long now = System.nanoTime();
      long last = lastRefusalLog.get();
      if (now - last > TimeUnit.SECONDS.toNanos(10) && lastRefusalLog.compareAndSet(last, now)) {
        log.warn("refusing connections: {} open (--max_connections)", limits.maxConnections());
      }
      channel.close();
      return;
    }
    channel.closeFuture().addListener(f -> open.decrementAndGet());
    if (channel.pipeline().get(CODEC) != null) {
      RequestClock clock = new RequestClock(limits);
      channel.pipeline().addBefore(CODEC, "sidecar.limits.bytes", clock.bytes);
      channel.pipeline().addAfter(CODEC, "sidecar.limits.requests", clock.requests);
    }
  }

  /** Where a connection is in its request/response cycle, and the one timer that phase runs. */
  private final class RequestClock {
    /** Opened, nothing received yet: the header deadline runs from the open. */
    private static final int FRESH = 0;
    /** Between requests: the idle timeout's business. */
    private static final int IDLE = 1;
    /** A request's first bytes are in, its headers not yet decoded. */
    private static final int HEADERS = 2;
    /** Headers decoded, the body still arriving. */
    private static final int BODY = 3;
    /** The request is all in; the answer is being made. */
    private static final int ANSWERING = 4;
    /** After a 101 the connection speaks WebSocket: no more HTTP to time. */
    private static final int UPGRADED = 5;

    private final long headerMillis;
    private final long bodyMillis;
    private final long stallMillis;
    private int phase = FRESH;
    private boolean answeredEarly;
    /** {@link System#nanoTime()} by which the current phase must end; 0 for none. */
    private long deadlineAt;
    private long deadlineMillis;
    private String deadlineWhy;
    /** The connection's one deadline timer, when pending. */
    private ScheduledFuture<?> timer;
    private final long checkNanos;
    private ScheduledFuture<?> stall;

    RequestClock(LimitsConfig limits) {
      this.headerMillis = limits.headerTimeout().toMillis();
      this.bodyMillis = limits.bodyTimeout().toMillis();
      this.stallMillis = limits.idleTimeout().toMillis();
      this.checkNanos = TimeUnit.MILLISECONDS.toNanos(Math.min(headerMillis, Math.min(bodyMillis, stallMillis)));
    }

    final ChannelDuplexHandler bytes = new ChannelDuplexHandler() {
      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        int n = msg instanceof ByteBuf b ? b.readableBytes() : 0;
        if (n >= BufferBudget.SMALL_ANSWER) {
          // a large answer stays charged until the socket has taken it all: a client that does not read keeps it
          budget.charge(n);
          promise = promise.unvoid();
          promise.addListener(f -> budget.release(n));
        }
        ctx.write(msg, promise);
      }

      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        arm(ctx, headerMillis, "request headers not complete");
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b && b.isReadable()) {
          if (phase == IDLE) {
            phase = HEADERS;
            arm(ctx, headerMillis, "request headers not complete");
          } else if (phase == FRESH) {
            phase = HEADERS;
          }
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (phase != UPGRADED) {
          if (!ctx.channel().isWritable() && stall == null) {
            stall = ctx.executor().schedule(() -> {
              log.debug("closing {}: the client took none of its answer in {} ms", ctx.channel().remoteAddress(), stallMillis);
              ctx.close();
            }, stallMillis, TimeUnit.MILLISECONDS);
          } else if (ctx.channel().isWritable() && stall != null) {
            stall.cancel(false);
            stall = null;
          }
        }
        ctx.fireChannelWritabilityChanged();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        if (stall != null) {
          stall.cancel(false);
        }
        ctx.fireChannelInactive();
      }
    };

    final ChannelDuplexHandler requests = new ChannelDuplexHandler() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase != UPGRADED) {
          if (msg instanceof HttpRequest r && r.decoderResult().isFailure()) {
            decodeFailed(ctx, r.decoderResult().cause());
          }
          if (msg instanceof HttpRequest) {
            phase = BODY;
            arm(ctx, bodyMillis, "request body paused");
          }
          if (msg instanceof LastHttpContent) {
            if (answeredEarly) {
              answeredEarly = false;
              idle(ctx);
            } else {
              phase = ANSWERING;
              cancel();
            }
          } else if (phase == BODY && !(msg instanceof HttpRequest)) {
            arm(ctx, bodyMillis, "request body paused");
          }
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
          // 100 Continue does not end the request; 101 ends HTTP on this connection altogether
          if (r.status().code() == 101) {
            stop();
            phase = UPGRADED;
          }
        } else if (msg instanceof LastHttpContent && phase != UPGRADED) {
          if (phase == BODY) {
            // answered before the body is all in (a 413, say): the body's deadline keeps running until it ends
            answeredEarly = true;
          } else {
            idle(ctx);
          }
        }
        ctx.write(msg, promise);
      }
    };

    /**
     * (Re)starts the one deadline; when it passes in a phase that is still waiting on the client, the
     * connection closes. Lazily: arming and cancelling only set a time. One timer per connection fires
     * at least every {@link #checkNanos} (the shortest of the timeouts, so never after a deadline armed
     * while it was pending) and re-arms itself for what is left, so a request costs no timer of its own.
     */
    private void arm(ChannelHandlerContext ctx, long millis, String why) {
      long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
      deadlineAt = System.nanoTime() + nanos;
      deadlineMillis = millis;
      deadlineWhy = why;
      if (timer == null) {
        schedule(ctx, Math.min(nanos, checkNanos));
      }
    }

    private void schedule(ChannelHandlerContext ctx, long nanos) {
      timer = ctx.executor().schedule(() -> fire(ctx), nanos, TimeUnit.NANOSECONDS);
    }

    private void fire(ChannelHandlerContext ctx) {
      timer = null;
      if (deadlineAt == 0) {
        return;
      }
      long left = deadlineAt - System.nanoTime();
      if (left > 0) {
        schedule(ctx, Math.min(left, checkNanos));
        return;
      }
      deadlineAt = 0;
      if (phase == FRESH || phase == HEADERS || phase == BODY || phase == IDLE) {
        log.debug("closing {}: {} within {} ms", ctx.channel().remoteAddress(), deadlineWhy, deadlineMillis);
        ctx.close();
      }
    }

    /** Between requests: a keep-alive connection that sends no request for the idle timeout is closed. */
    private void idle(ChannelHandlerContext ctx) {
      phase = IDLE;
      arm(ctx, stallMillis, "no request");
    }

    private void cancel() {
      deadlineAt = 0;
    }

    private void stop() {
      deadlineAt = 0;
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }
  }
}
