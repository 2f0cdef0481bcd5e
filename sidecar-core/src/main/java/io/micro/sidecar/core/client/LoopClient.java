package io.micro.sidecar.core.client;

import io.micro.sidecar.core.metrics.PoolStats;
import io.micro.sidecar.core.rpc.MicroError;
import io.micro.sidecar.core.rpc.RpcException;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.AttributeKey;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.Disposable;

/**
 * Calls to apps that never leave the event loop they are made on. Each event loop owns its keep-alive
 * connections to each app node: a call made on loop L takes an idle connection of L to the node, or
 * connects one on L, writes the whole request (head and body) in one write and one flush, and completes
 * with the whole answer, on L. No locks, no hand-off between threads, no per-call Reactor machinery
 * at all: the caller hears of the answer through a {@link Callback}.
 *
 * <p>Per loop and node at most {@code maxPerLoop} connections; calls beyond them wait (at most
 * {@code maxPending}, then 503). Idle connections close after {@code idleTimeout}; with a pool TTL a
 * connection that old is not reused. The deadline runs on the loop's own timer. A connection refused or
 * never made, or closed before the request could be written, fails with a {@link ConnectException}, which
 * the {@link Balancer} may retry on another node; anything after that may have reached the app.
 *
 * <p>Owns its connections and closes them in {@link #close()}; the event loops belong to the server.
 *
 * <p>Over 300 lines on purpose: the pool, the connection's exchange state machine and the lazy deadline
 * share one invariant (a connection serves one exchange at a time, on its loop, and every ending path
 * returns or closes it once); split apart, each piece would need the others' state to keep it.
 */
public final class LoopClient implements AutoCloseable {

  /** The largest answer read from an app into memory. */
  static final int MAX_ANSWER_BYTES = 64 * 1024 * 1024;
  private static final AttributeKey<Link> LINK = AttributeKey.valueOf("sidecar.loopClient.link");

  private final int maxPerLoop;
  private final int maxPending;
  private final long idleNanos;
  private final long ttlNanos;
  private final Optional<SslContext> ssl;
  private final int connectMillis;
  private final AddressResolverGroup<InetSocketAddress> names;
  private final Map<EventLoop, Map<PoolKey, NodePool>> loops = new ConcurrentHashMap<>();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger idle = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicInteger nodes = new AtomicInteger();
  private volatile boolean closed;

  /**
   * @param maxPerLoop connections to one node kept by one event loop
   * @param poolTtl    a connection this old is not reused; zero for no limit
   */
  public LoopClient(int maxPerLoop, int maxPending, Duration idleTimeout, Duration poolTtl, Duration connectTimeout,
                    Optional<SslContext> ssl) {
    this(maxPerLoop, maxPending, idleTimeout, poolTtl, connectTimeout, ssl, OffLoopNames.jdk(connectTimeout));
  }

  /** @param names looks up nodes registered by name (never asked for an IP address); closed with this client */
  LoopClient(int maxPerLoop, int maxPending, Duration idleTimeout, Duration poolTtl, Duration connectTimeout,
             Optional<SslContext> ssl, AddressResolverGroup<InetSocketAddress> names) {
    this.names = names;
    this.maxPerLoop = maxPerLoop;
    this.maxPending = maxPending;
    this.idleNanos = idleTimeout.toNanos();
    this.ttlNanos = poolTtl.toNanos();
    this.connectMillis = (int) connectTimeout.toMillis();
    this.ssl = ssl;
  }

  /**
   * One request to {@code host:port}, made and answered on {@code caller}'s event loop. {@code request}
   * builds the request when a connection is ready, with that connection's allocator, so a call that
   * ends before then allocates nothing. The answer belongs to {@code done}, which must release it.
   *
   * @param deadlineAt {@link System#nanoTime()} by which the answer must be in, or {@link TimeoutException}
   * @return disposing of it drops the call (from any thread); {@code done} then hears nothing more
   */
  public Disposable exchange(Channel caller, String host, int port, Function<ByteBufAllocator, FullHttpRequest> request,
                             long deadlineAt, Callback<FullHttpResponse> done) {
    return start(caller, host, port, false, deadlineAt, new Exchange(caller.eventLoop(), done, null, null, request));
  }

  /** Starts {@code ex} on {@code caller}'s loop: here when this is that loop, else handed to it. */
  private Exchange start(Channel caller, String host, int port, boolean streaming, long deadlineAt, Exchange ex) {
    EventLoop loop = caller.eventLoop();
    if (loop.inEventLoop()) {
      begin(loop, caller.getClass(), host, port, streaming, deadlineAt, ex);
    } else {
      loop.execute(() -> begin(loop, caller.getClass(), host, port, streaming, deadlineAt, ex));
    }
    return ex;
  }

  /** On {@code loop}: {@code ex} goes to its node's pool, unless this client is closed (nothing may connect then). */
  private void begin(EventLoop loop, Class<? extends Channel> type, String host, int port, boolean streaming,
                     long deadlineAt, Exchange ex) {
    if (closed) {
      ex.fail(new ConnectException("sidecar stopping"));
    } else {
      ex.start(pool(loop, type, host, port, streaming), deadlineAt);
    }
  }

  /**
   * One request to {@code host:port} whose answer streams: {@code head} hears of the answer's head as
   * soon as it arrives (the deadline covers only the wait for it), then every part of its body, the
   * last a {@link LastHttpContent}, goes to {@code receiver} on {@code caller}'s event loop, with no
   * bound on its size or time. Used by the proxy, whose answers may be any size.
   */
  public Disposable stream(Channel caller, String host, int port, Function<ByteBufAllocator, FullHttpRequest> request,
                           long deadlineAt, Receiver receiver, Callback<HttpResponse> head) {
    return start(caller, host, port, true, deadlineAt, new Exchange(caller.eventLoop(), null, head, receiver, request));
  }

  /**
   * Takes the body of a streamed answer, on the event loop. Each part is the receiver's to release.
   * {@link Upstream} lets it pause the app while its own client is slow to read.
   */
  public interface Receiver {

    /** The answer's head is in, and comes next: the connection its body will come over. */
    void opened(Upstream upstream);

    /** A part of the body; the last is a {@link LastHttpContent}, after which the upstream is of no more use. */
    void part(HttpContent part, Upstream upstream);

    /** The app's read batch is over: a good moment to flush what was written. */
    void flush();

    /** The answer broke off after its head: the app closed or reset the connection. */
    void broken(Throwable cause);
  }

  /** The app connection a streamed answer comes over. Event loop only. */
  public static final class Upstream {
    private final Channel channel;

    Upstream(Channel channel) {
      this.channel = channel;
    }

    /** Stop reading from the app (the client is not taking what is written). */
    public void pause() {
      channel.config().setAutoRead(false);
    }

    public void resume() {
      channel.config().setAutoRead(true);
    }

    /** The client left: the rest of the answer cannot be used, and the connection cannot be reused. */
    public void abort() {
      channel.close();
    }
  }

  /** Connections over every loop and node: a snapshot for metrics. */
  public PoolStats stats() {
    int o = open.get();
    int i = idle.get();
    return new PoolStats(nodes.get(), Math.max(0, o - i), i, pending.get());
  }

  private NodePool pool(EventLoop loop, Class<? extends Channel> type, String host, int port, boolean streaming) {
    // whole and streamed answers need different pipelines: each has its own connections
    return loops.computeIfAbsent(loop, l -> new HashMap<>())
        .computeIfAbsent(new PoolKey(host, port, streaming), k -> {
          nodes.incrementAndGet();
          return new NodePool(k, loop, type, host, port, streaming);
        });
  }

  /** Closes every idle connection; calls in flight end as their connections close. */
  @Override
  public void close() {
    closed = true;
    // over a copy: a pool whose last connection closes removes itself from the map
    loops.forEach((loop, pools) -> loop.execute(() -> List.copyOf(pools.values()).forEach(NodePool::close)));
    names.close();
  }

  /** A node's pool on one loop: whole and streamed answers need different pipelines, so each has its own. */
  private record PoolKey(String host, int port, boolean streaming) {}

  /** One node's connections on one loop; loop only. */
  private final class NodePool {
    final PoolKey key;
    final EventLoop loop;
    final String host;
    final int port;
    /** Resolved for an IP address, which is never looked up; a name is looked up off the loop per connection. */
    final InetSocketAddress address;
    final Bootstrap bootstrap;
    final ArrayDeque<Channel> idleChannels = new ArrayDeque<>();
    final ArrayDeque<Exchange> waiting = new ArrayDeque<>();
    int connections;
    /** The timer that closes idle connections, while there are any. */
    ScheduledFuture<?> sweep;

    NodePool(PoolKey key, EventLoop loop, Class<? extends Channel> type, String host, int port, boolean streaming) {
      this.key = key;
      this.loop = loop;
      this.host = host.isEmpty() ? "127.0.0.1" : host;
      this.port = port;
      InetAddress ip = NetUtil.createInetAddressFromIpAddressString(this.host);
      this.address = ip != null ? new InetSocketAddress(ip, port) : InetSocketAddress.createUnresolved(this.host, port);
      this.bootstrap = new Bootstrap().group(loop).channel(type).resolver(names)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
          .handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
              ssl.ifPresent(s -> ch.pipeline().addLast(s.newHandler(ch.alloc(), NodePool.this.host, port)));
              if (streaming) {
                ch.pipeline().addLast(new HttpClientCodec(), new Parts());
              } else {
                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_ANSWER_BYTES), new Answers());
              }
            }
          });
    }

    void acquire(Exchange ex) {
      for (Channel ch; (ch = idleChannels.pollLast()) != null; ) {
        idle.decrementAndGet();
        Link link = ch.attr(LINK).get();
        if (ch.isActive() && (ttlNanos == 0 || System.nanoTime() - link.born < ttlNanos)) {
          link.send(ex, true);
          return;
        }
        ch.close();
      }
      if (connections < maxPerLoop) {
        connect(ex);
      } else if (waiting.size() < maxPending) {
        pending.incrementAndGet();
        waiting.add(ex);
      } else {
        ex.fail(new RpcException(MicroError.serviceUnavailable("too many calls waiting for a connection to "
            + host + ":" + port)));
      }
    }

    private void connect(Exchange ex) {
      connections++;
      open.incrementAndGet();
      ChannelFuture f = bootstrap.connect(address);
      Link link = new Link(this, f.channel());
      f.channel().attr(LINK).set(link);
      f.channel().closeFuture().addListener(c -> {
        connections--;
        open.decrementAndGet();
        link.closed();
        // a waiting call may now have room for a connection of its own
        Exchange next = pollWaiting();
        if (next != null) {
          acquire(next);
        } else if (connections == 0 && idleChannels.isEmpty()) {
          // a node gone from use leaves nothing behind; the next call to it makes a new pool
          Map<PoolKey, NodePool> pools = loops.get(loop);
          if (pools != null && pools.remove(key, this)) {
            nodes.decrementAndGet();
          }
        }
      });
      f.addListener(c -> {
        if (!c.isSuccess()) {
          Throwable cause = c.cause();
          ex.fail(cause instanceof ConnectException ? cause
              : (ConnectException) new ConnectException("connection to " + host + ":" + port + " not made: "
                  + cause.getMessage()).initCause(cause));
        } else if (ex.ended) {
          release(f.channel());
        } else {
          link.send(ex, false);
        }
      });
    }

    /** A connection free again: to the next waiting call, else idle. */
    void release(Channel ch) {
      if (closed || !ch.isActive()) {
        ch.close();
        return;
      }
      Exchange next = pollWaiting();
      if (next != null) {
        ch.attr(LINK).get().send(next, true);
        return;
      }
      Link link = ch.attr(LINK).get();
      link.idleSince = System.nanoTime();
      idleChannels.addLast(ch);
      idle.incrementAndGet();
      if (sweep == null) {
        sweep = loop.schedule(this::sweep, idleNanos, TimeUnit.NANOSECONDS);
      }
    }

    /**
     * Closes the connections idle for the idle timeout, oldest first (calls take the newest), and comes
     * back when the next one will be: one timer per pool, not one per call.
     */
    private void sweep() {
      sweep = null;
      long now = System.nanoTime();
      for (Channel ch; (ch = idleChannels.peekFirst()) != null; ) {
        long left = ch.attr(LINK).get().idleSince + idleNanos - now;
        if (left > 0) {
          sweep = loop.schedule(this::sweep, left, TimeUnit.NANOSECONDS);
          return;
        }
        idleChannels.pollFirst();
        idle.decrementAndGet();
        ch.close();
      }
    }

    private Exchange pollWaiting() {
      for (Exchange ex; (ex = waiting.poll()) != null; ) {
        pending.decrementAndGet();
        if (!ex.ended) {
          return ex;
        }
      }
      return null;
    }

    void forget(Exchange ex) {
      if (waiting.remove(ex)) {
        pending.decrementAndGet();
      }
    }

    void close() {
      // the waiting first: a closing connection would hand its place to one of them and connect anew
      for (Exchange ex; (ex = waiting.poll()) != null; ) {
        pending.decrementAndGet();
        ex.fail(new ConnectException("sidecar stopping"));
      }
      for (Channel ch; (ch = idleChannels.poll()) != null; ) {
        idle.decrementAndGet();
        ch.close();
      }
    }
  }

  /** One connection's state: the call it carries, if any. Loop only. */
  private static final class Link {
    final NodePool pool;
    final Channel channel;
    final long born = System.nanoTime();
    final Upstream upstream;
    Exchange current;
    boolean keepAlive;
    /** When the connection last went idle. */
    long idleSince;
    /**
     * Watches the deadline of the call under way. Calls on one connection follow each other with
     * deadlines that mostly only grow, so the timer is rarely re-armed: when it fires before the
     * current call's deadline it is set again for that (the deadlines of {@code ConnectionLimits} work the
     * same way). A timer scheduled and cancelled per call, and one more per idle spell, were about 4 % of
     * the loop's own work in a profile of the catch-all.
     */
    ScheduledFuture<?> deadlineTimer;
    long armedFor;

    Link(NodePool pool, Channel channel) {
      this.pool = pool;
      this.channel = channel;
      this.upstream = new Upstream(channel);
    }

    void send(Exchange ex, boolean reused) {
      FullHttpRequest request;
      try {
        request = ex.request.apply(channel.alloc());
      } catch (RuntimeException e) {
        ex.fail(e);
        pool.release(channel);
        return;
      }
      current = ex;
      ex.link = this;
      if (ex.deadline == null) {
        watch(ex.deadlineAt);
      }
      channel.writeAndFlush(request).addListener(w -> {
        if (!w.isSuccess() && current == ex) {
          current = null;
          // nothing of the request left: the app never saw it, whichever way the connection broke
          ex.fail((ConnectException) new ConnectException((reused ? "pooled " : "") + "connection to the app closed before "
              + "the request was sent").initCause(w.cause()));
          channel.close();
        }
      });
    }

    private void watch(long deadlineAt) {
      if (deadlineTimer != null && deadlineAt - armedFor >= 0) {
        return;
      }
      if (deadlineTimer != null) {
        deadlineTimer.cancel(false);
      }
      armedFor = deadlineAt;
      deadlineTimer = channel.eventLoop().schedule(this::checkDeadline, deadlineAt - System.nanoTime(),
          TimeUnit.NANOSECONDS);
    }

    private void checkDeadline() {
      deadlineTimer = null;
      Exchange ex = current;
      if (ex == null || ex.headSent || ex.deadline != null) {
        return; // idle, streaming a body (the deadline covers only its head), or watched by its own timer
      }
      if (ex.deadlineAt - System.nanoTime() > 0) {
        watch(ex.deadlineAt);
      } else {
        ex.expire();
      }
    }

    void answered(FullHttpResponse answer) {
      Exchange ex = current;
      current = null;
      boolean keepAlive = KeepAlive.of(answer);
      if (ex != null) {
        ex.cancelDeadline();
      }
      if (ex == null || !ex.succeed(answer)) {
        answer.release();
      }
      if (keepAlive) {
        pool.release(channel);
      } else {
        channel.close();
      }
    }

    void closed() {
      Exchange ex = current;
      if (ex != null && ex.headSent) {
        // a streamed body under way: the codec may still end it when the channel goes inactive (a body
        // delimited by the close), which runs after this listener; Parts.channelInactive settles it
        return;
      }
      current = null;
      if (ex != null) {
        ex.cancelDeadline();
        ex.fail(new AppClosedException());
      }
    }

    /** The connection is gone with a streamed body not ended: the receiver learns it broke off. */
    void inactive() {
      Exchange ex = current;
      current = null;
      if (ex != null && ex.headSent) {
        ex.receiver.broken(new AppClosedException());
      }
    }

    /** A streamed answer's head: the call completes with it; its body follows to the receiver. */
    void head(HttpResponse head) {
      Exchange ex = current;
      if (ex == null) {
        return;
      }
      ex.cancelDeadline();
      keepAlive = KeepAlive.of(head);
      ex.receiver.opened(upstream);
      if (!ex.succeedHead(head)) {
        // nobody wants this answer any more: its body cannot be skipped on a reusable connection
        current = null;
        channel.close();
      }
    }

    void part(HttpContent part) {
      Exchange ex = current;
      if (ex == null) {
        part.release();
        return;
      }
      boolean last = part instanceof LastHttpContent;
      if (last) {
        current = null;
      }
      ex.receiver.part(part, upstream);
      if (last) {
        channel.config().setAutoRead(true);
        if (keepAlive) {
          pool.release(channel);
        } else {
          channel.close();
        }
      }
    }

    void readComplete() {
      Exchange ex = current;
      if (ex != null && ex.headSent) {
        ex.receiver.flush();
      }
    }
  }

  /** Reads streamed answers part by part into the connection's current call; 1xx answers are skipped. */
  private static final class Parts extends ChannelInboundHandlerAdapter {
    private boolean informational;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Link link = ctx.channel().attr(LINK).get();
      if (msg instanceof DecoderResultProvider d && d.decoderResult().isFailure()) {
        // a malformed answer (head or chunk): it cannot be passed on, and the connection is done for
        ReferenceCountUtil.release(msg);
        exceptionCaught(ctx, d.decoderResult().cause());
        return;
      }
      if (msg instanceof HttpResponse head) {
        informational = head.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        if (!informational) {
          link.head(head);
        }
      }
      if (msg instanceof HttpContent part) {
        if (informational) {
          part.release();
        } else {
          link.part(part);
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.channel().attr(LINK).get().readComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      ctx.channel().attr(LINK).get().inactive();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Link link = ctx.channel().attr(LINK).get();
      Exchange ex = link.current;
      link.current = null;
      if (ex != null && !ex.fail(cause) && ex.headSent) {
        ex.receiver.broken(cause);
      }
      ctx.close();
    }
  }

  /** The app closed the connection after the request was sent, before answering. */
  static final class AppClosedException extends RuntimeException {
    AppClosedException() {
      super("the app closed the connection before answering", null, false, false);
    }
  }

  /** Reads whole answers into the connection's current call. */
  private static final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
    Answers() {
      super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse answer) {
      ctx.channel().attr(LINK).get().answered(answer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Link link = ctx.channel().attr(LINK).get();
      Exchange ex = link.current;
      link.current = null;
      if (ex != null) {
        ex.fail(cause);
      }
      ctx.close();
    }
  }

  /** One call; loop only after it starts, but for {@link #dispose}. */
  private static final class Exchange implements Disposable {
    final EventLoop loop;
    /** Hears of the whole answer; null when it streams. */
    final Callback<FullHttpResponse> sink;
    /** Hears of the head of a streamed answer; null when it comes whole. */
    final Callback<HttpResponse> headSink;
    final Receiver receiver;
    final Function<ByteBufAllocator, FullHttpRequest> request;
    NodePool pool;
    Link link;
    /** The deadline's own timer; null when the connection it was sent on watches it. */
    ScheduledFuture<?> deadline;
    long deadlineAt;
    boolean ended;
    boolean headSent;

    Exchange(EventLoop loop, Callback<FullHttpResponse> sink, Callback<HttpResponse> headSink, Receiver receiver,
             Function<ByteBufAllocator, FullHttpRequest> request) {
      this.loop = loop;
      this.sink = sink;
      this.headSink = headSink;
      this.receiver = receiver;
      this.request = request;
    }

    boolean succeedHead(HttpResponse head) {
      if (ended) {
        return false;
      }
      finish();
      headSent = true;
      headSink.succeeded(head);
      return true;
    }

    void start(NodePool pool, long deadlineAt) {
      if (ended) {
        return;
      }
      this.pool = pool;
      this.deadlineAt = deadlineAt;
      long left = deadlineAt - System.nanoTime();
      if (left <= 0) {
        fail(new TimeoutException());
        return;
      }
      pool.acquire(this);
      if (!ended && (link == null || link.current != this)) {
        // waiting for a connection, or for one to be made: a timer of its own (sent at once on a
        // pooled connection, the call is watched by that connection's timer instead)
        deadline = pool.loop.schedule(this::expire, left, TimeUnit.NANOSECONDS);
      }
    }

    /** The deadline passed without an answer (or a streamed answer's head). */
    void expire() {
      if (link != null && link.current == this) {
        // the answer may still come: this connection cannot be reused for another call
        link.current = null;
        link.channel.close();
      }
      fail(new TimeoutException());
    }

    boolean succeed(FullHttpResponse answer) {
      if (ended) {
        return false;
      }
      finish();
      sink.succeeded(answer);
      return true;
    }

    /** Fails the call if it has not ended; false when it had (a streamed answer's body may still be under way). */
    boolean fail(Throwable e) {
      if (ended) {
        return false;
      }
      finish();
      if (sink != null) {
        sink.failed(e);
      } else {
        headSink.failed(e);
      }
      return true;
    }

    @Override
    public void dispose() {
      if (loop.inEventLoop()) {
        end();
      } else {
        loop.execute(this::end);
      }
    }

    @Override
    public boolean isDisposed() {
      return ended;
    }

    /**
     * The caller left. A call still waiting for a connection is dropped. One already sent keeps its
     * connection until the answer comes (it is then discarded and the connection reused) or the deadline
     * closes it: the app is not reset under a request it is working on, as nginx's
     * {@code proxy_ignore_client_abort} does.
     */
    void end() {
      if (ended) {
        return;
      }
      ended = true;
      if (pool != null) {
        pool.forget(this);
      }
      if (link == null || link.current != this) {
        cancelDeadline();
      }
    }

    private void finish() {
      ended = true;
      cancelDeadline();
      if (pool != null) {
        pool.forget(this);
      }
    }

    void cancelDeadline() {
      if (deadline != null) {
        deadline.cancel(false);
      }
    }
  }

  /** For tests: the loop a live connection to {@code host:port} belongs to, if this client holds one idle. */
  Optional<EventLoop> idleConnectionLoop(EventLoop loop, String host, int port) {
    Map<PoolKey, NodePool> pools = loops.get(loop);
    NodePool pool = pools == null ? null : pools.get(new PoolKey(host, port, false));
    return pool == null || pool.idleChannels.isEmpty() ? Optional.empty()
        : Optional.of(pool.idleChannels.peekLast().eventLoop());
  }
}
