package io.micro.sidecar.server;

import io.micro.sidecar.core.config.SidecarConfig.IoBackend;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;
import reactor.netty.resources.LoopResources;

/**
 * The sidecar's event loops, on the kernel interface {@code --io_backend} names. {@link IoBackend#AUTO}
 * is epoll wherever Linux has it, else Java's NIO; io_uring only when named, as it costs less CPU when
 * saturated and added to the tail at a moderate rate (docs/benchmarks.md, "io_uring"). A named
 * interface the kernel refuses fails the start, saying why. Channels follow their loops: Reactor Netty
 * picks the channel class that matches a group's I/O handler. Owned and disposed by the {@link Sidecar}.
 */
final class EventLoops implements LoopResources {

  private static final String PREFIX = "sidecar";

  private final EventLoopGroup group;
  /** For clients: a connection made from one of these loops stays on it, as with Reactor Netty's own loops. */
  private final EventLoopGroup colocated;

  private EventLoops(EventLoopGroup group) {
    this.group = group;
    this.colocated = LoopResources.colocate(group);
  }

  /**
   * @throws IllegalStateException when the kernel refuses {@code backend}
   */
  static LoopResources create(IoBackend backend) {
    IoBackend chosen = backend == IoBackend.AUTO ? (Epoll.isAvailable() ? IoBackend.EPOLL : IoBackend.NIO) : backend;
    IoHandlerFactory handlers;
    switch (chosen) {
      case IO_URING:
        available("io_uring", IoUring.isAvailable(), IoUring.unavailabilityCause());
        handlers = IoUringIoHandler.newFactory();
        break;
      case EPOLL:
        available("epoll", Epoll.isAvailable(), Epoll.unavailabilityCause());
        handlers = EpollIoHandler.newFactory();
        break;
      default:
        handlers = NioIoHandler.newFactory();
        break;
    }
    String name = PREFIX + "-" + chosen.name().toLowerCase(Locale.ROOT);
    return new EventLoops(new MultiThreadIoEventLoopGroup(LoopResources.DEFAULT_IO_WORKER_COUNT,
        new DefaultThreadFactory(name, true), handlers));
  }

  private static void available(String name, boolean available, Throwable cause) {
    if (!available) {
      throw new IllegalStateException("--io_backend=" + name + ": not available here ("
          + (cause == null ? "no reason given" : cause.getMessage()) + ")", cause);
    }
  }

  @Override
  public EventLoopGroup onServer(boolean useNative) {
    return group;
  }

  @Override
  public EventLoopGroup onClient(boolean useNative) {
    return colocated;
  }

  @Override
  public boolean daemon() {
    return true;
  }

  @Override
  public boolean isDisposed() {
    return group.isShuttingDown();
  }

  @Override
  public Mono<Void> disposeLater(Duration quietPeriod, Duration timeout) {
    return Mono.create(sink -> group.shutdownGracefully(quietPeriod.toMillis(), timeout.toMillis(), TimeUnit.MILLISECONDS)
        .addListener(f -> sink.success()));
  }
}
