package io.micro.sidecar.server.http;

import io.micro.sidecar.core.config.LimitsConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.ConnectionObserver;
import reactor.netty.ChannelPipelineConfigurer;

/**
 * Connection-level limits Reactor Netty has no setting for: at most {@code maxConnections} open
 * client connections, and a deadline for a request's headers, so that a client trickling a header
 * byte at a time (slow-loris) is dropped instead of holding a connection forever.
 *
 * <p>The header deadline starts with the first byte of a request and ends when the HTTP codec has
 * decoded the request line and headers; it starts again with the first byte of the next request on
 * the connection. Waiting between requests is the idle timeout's business. All state is per channel
 * and touched on its event loop only.
 */
public final class ConnectionLimits implements ChannelPipelineConfigurer {

  private static final Logger log = LoggerFactory.getLogger(ConnectionLimits.class);
  private static final String CODEC = "reactor.left.httpCodec";

  private final LimitsConfig limits;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong lastRefusalLog = new AtomicLong();

  public ConnectionLimits(LimitsConfig limits) {
    this.limits = limits;
  }

  int open() {
    return open.get();
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
      RequestClock clock = new RequestClock(limits.headerTimeout().toMillis());
      channel.pipeline().addBefore(CODEC, "sidecar.headerDeadline.bytes", clock.bytes);
      channel.pipeline().addAfter(CODEC, "sidecar.headerDeadline.requests", clock.requests);
    }
  }

  /** Starts on a request's first byte, stops on its decoded headers, restarts after its response. */
  private static final class RequestClock {
    private final long timeoutMillis;
    private boolean betweenRequests = true;
    /** After a 101 the connection speaks WebSocket: no more HTTP requests to time. */
    private boolean upgraded;
    private ScheduledFuture<?> deadline;

    final ChannelInboundHandlerAdapter bytes = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!upgraded && betweenRequests && deadline == null && msg instanceof ByteBuf b && b.isReadable()) {
          deadline = ctx.executor().schedule(() -> {
            log.debug("closing {}: request headers not complete within {} ms", ctx.channel().remoteAddress(), timeoutMillis);
            ctx.close();
          }, timeoutMillis, TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
      }
    };

    final ChannelDuplexHandler requests = new ChannelDuplexHandler() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
          betweenRequests = false;
          cancel();
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
          // 100 Continue does not end the request; 101 ends HTTP on this connection altogether
          if (r.status().code() == 101) {
            cancel();
            upgraded = true;
          }
        } else if (msg instanceof LastHttpContent && !upgraded) {
          betweenRequests = true;
        }
        ctx.write(msg, promise);
      }
    };

    RequestClock(long timeoutMillis) {
      this.timeoutMillis = timeoutMillis;
    }

    private void cancel() {
      if (deadline != null) {
        deadline.cancel(false);
        deadline = null;
      }
    }
  }
}
