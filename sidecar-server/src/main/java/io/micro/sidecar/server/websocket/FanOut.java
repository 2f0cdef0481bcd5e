package io.micro.sidecar.server.websocket;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.broker.MessageCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.PlatformDependent;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * How broker messages reach WebSocket subscribers, NATS-style: a message is encoded into its frame's
 * bytes once, on the publisher's thread; each event loop with subscribers gets one queue of deliveries
 * ({@link Outbox}) and one wake-up per batch, writes each frame to its subscribers (sharing the bytes,
 * no copy per subscriber) and flushes each subscriber once per batch.
 *
 * <p>Slow subscribers are bounded by bytes: what a subscriber has queued for its socket (its own
 * backlog, held while the socket is not writable, plus Netty's outbound buffer once that is past its
 * high-water mark) may not pass
 * {@link BrokerConfig#pendingBytes()}; past it the subscriber is cut off (closed with 1013) or, under
 * {@code drop_oldest}, loses the oldest of its backlog, counted either way. All subscribers together
 * may not pass {@link BrokerConfig#maxPendingBytes()}: past it the one with the most pending is cut
 * first. A subscriber that keeps reading never loses a message to another's slowness.
 *
 * <p>Threading: {@link Subscriber#offer} runs on the publisher's thread; everything else about a
 * subscriber runs on its channel's event loop. One per sidecar.
 *
 * <p>Over 300 lines on purpose: the outboxes, the subscribers' backlogs and the broker-wide pending
 * count are one accounting (every byte is counted once, from offer to socket, and released once however
 * a subscriber ends), which is easier to check in one place than across three classes.
 */
public final class FanOut {

  private static final Logger log = LoggerFactory.getLogger(FanOut.class);

  /** Most deliveries an outbox writes before letting its event loop do other work. */
  private static final int BATCH = 65_536;
  /** An event loop writing to fewer subscribers than this at once writes as soon as there is something. */
  private static final int COALESCE_SUBSCRIBERS = 128;
  /** How long deliveries gather for a loop that writes to more. */
  private static final long COALESCE_NANOS = 10_000_000;

  private final long pendingLimit;
  private final long totalLimit;
  private final boolean close;
  private final AtomicLong total = new AtomicLong();
  private final AtomicBoolean capCutting = new AtomicBoolean();
  private final AtomicLong peak = new AtomicLong();
  private final Set<Subscriber> live = ConcurrentHashMap.newKeySet();
  private final Map<EventLoop, Outbox> outboxes = new ConcurrentHashMap<>();
  /** The last message encoded on this thread: a publish offers one message to its subscribers in a row. */
  private final ThreadLocal<Encoded> last = new ThreadLocal<>();

  public FanOut(BrokerConfig config) {
    this.pendingLimit = config.pendingBytes();
    this.totalLimit = config.maxPendingBytes();
    this.close = config.overflow() == BrokerConfig.Overflow.CLOSE;
  }

  /**
   * Bytes queued for all subscribers' sockets now, as last accounted: their backlogs and outbound
   * buffers. (What is still on its way to a subscriber's event loop is bounded per subscriber, by
   * refusing the newest past its limit.)
   */
  public long pending() {
    return total.get();
  }

  /** The most {@link #pending()} has been since this sidecar started. */
  public long peak() {
    return peak.get();
  }

  private void added(long bytes) {
    long now = total.addAndGet(bytes);
    if (bytes > 0 && now > peak.get()) {
      peak.accumulateAndGet(now, Math::max);
    }
  }

  /** A subscriber writing to {@code channel}, pinged every {@code pingEvery}; not yet attached. */
  Subscriber subscriber(Channel channel, Duration pingEvery) {
    Subscriber s = new Subscriber(channel, outboxes.computeIfAbsent(channel.eventLoop(), Outbox::new));
    live.add(s);
    // Frames are whole on the wire already: written from here, next to the socket (past TLS when
    // there is TLS), they skip the WebSocket encoder and every HTTP handler in between.
    ChannelInboundHandlerAdapter here = new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        s.out = ctx;
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        s.writable();
        ctx.fireChannelWritabilityChanged();
      }
    };
    ChannelHandlerContext tls = channel.pipeline().context(SslHandler.class);
    if (tls != null) {
      channel.pipeline().addAfter(tls.name(), "sidecar.fanOut", here);
    } else {
      channel.pipeline().addFirst("sidecar.fanOut", here);
    }
    long every = pingEvery.toNanos();
    s.ping = channel.eventLoop().scheduleAtFixedRate(s::ping, every, every, TimeUnit.NANOSECONDS);
    return s;
  }

  private byte[] encode(Message m) {
    Encoded e = last.get();
    if (e == null || e.message != m) {
      e = new Encoded(m, wire(MessageCodec.encode(m)));
      last.set(e);
    }
    return e.frame;
  }

  /**
   * A whole text frame as it goes on the wire (RFC 6455 §5.2): a server's frames are not masked, so
   * the bytes are the same for every subscriber and are written past the WebSocket encoder.
   */
  static byte[] wire(byte[] payload) {
    int n = payload.length;
    int head = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
    byte[] out = new byte[head + n];
    out[0] = (byte) 0x81; // FIN, text
    if (n < 126) {
      out[1] = (byte) n;
    } else if (n <= 0xFFFF) {
      out[1] = 126;
      out[2] = (byte) (n >>> 8);
      out[3] = (byte) n;
    } else {
      out[1] = 127;
      for (int i = 0; i < 8; i++) {
        out[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
      }
    }
    System.arraycopy(payload, 0, out, head, n);
    return out;
  }

  /**
   * Past the broker-wide cap: cuts the subscriber with the most pending, one at a time (the next is
   * chosen once the cut has freed what it held).
   */
  private void overCap() {
    if (!capCutting.compareAndSet(false, true)) {
      return;
    }
    Subscriber largest = null;
    for (Subscriber s : live) {
      if (!s.cutting.get() && (largest == null || s.accounted > largest.accounted)) {
        largest = s;
      }
    }
    if (largest == null || !largest.cutting.compareAndSet(false, true)) {
      capCutting.set(false);
      return;
    }
    Subscriber victim = largest;
    victim.loop.execute(() -> {
      // decided again on the victim's loop, with what is pending now: another cut may have freed enough
      if (total.get() > totalLimit) {
        victim.cut();
      } else {
        victim.cutting.set(false);
      }
      capCutting.set(false);
      if (total.get() > totalLimit) {
        overCap();
      }
    });
  }

  private record Encoded(Message message, byte[] frame) {
  }

  /** A delivery waiting in an outbox. */
  private record Delivery(Subscriber to, byte[] frame) {
  }

  /** One event loop's deliveries: any thread adds, the loop drains in batches. */
  private static final class Outbox implements Runnable {
    private final EventLoop loop;
    private final Queue<Delivery> queue = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final List<Subscriber> touched = new ArrayList<>();
    /** The frame being written in this batch, in one direct buffer its subscribers share. */
    private byte[] frame;
    private ByteBuf shared;
    /** How many subscribers the last batch wrote to; read by publishers on other threads, roughly. */
    private volatile int lastTouched;

    Outbox(EventLoop loop) {
      this.loop = loop;
    }

    void add(Delivery d) {
      queue.offer(d);
      if (scheduled.compareAndSet(false, true)) {
        schedule();
      }
    }

    /**
     * Runs the next batch at once while the loop writes to a few subscribers at a time; once the last
     * batch wrote to {@link #COALESCE_SUBSCRIBERS} or more, the next gathers for {@link #COALESCE_NANOS}
     * first, so that more messages go out in each subscriber's flush: each flush is a system call,
     * and flushing every message on its own to hundreds of subscribers is what falls behind (NATS
     * coalesces the same way once it is busy).
     */
    private void schedule() {
      long wait = lastTouched >= COALESCE_SUBSCRIBERS ? COALESCE_NANOS : 0;
      if (wait == 0) {
        loop.execute(this);
      } else {
        loop.schedule(this, wait, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public void run() {
      // cleared before polling: a delivery added after the last poll schedules another run
      scheduled.set(false);
      try {
        Delivery d;
        int n = 0;
        while (n++ < BATCH && (d = queue.poll()) != null) {
          Subscriber s = d.to;
          s.take(d.frame, this);
          if (!s.touched) {
            s.touched = true;
            touched.add(s);
          }
        }
        for (Subscriber s : touched) {
          s.touched = false;
          s.flush();
        }
      } finally {
        // whatever happened, the shared buffer goes back and no subscriber stays marked
        for (Subscriber s : touched) {
          s.touched = false;
        }
        lastTouched = touched.size();
        touched.clear();
        if (shared != null) {
          shared.release();
          shared = null;
          frame = null;
        }
      }
      if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
        schedule();
      }
    }
  }

  /** {@code f} for one more subscriber on this loop: a view of the buffer shared by all of them. */
  private static ByteBuf sharedCopy(Outbox box, byte[] f, Channel channel) {
    if (box.frame != f) {
      if (box.shared != null) {
        box.shared.release();
      }
      box.shared = channel.alloc().directBuffer(f.length).writeBytes(f);
      box.frame = f;
    }
    return box.shared.retainedDuplicate();
  }

  /** One WebSocket subscriber: a {@link Broker.Receiver} that queues for its socket. */
  final class Subscriber implements Broker.Receiver {
    private final Channel channel;
    private final EventLoop loop;
    private final Outbox outbox;
    private final Sinks.One<Integer> ended = Sinks.one();
    private final AtomicBoolean cutting = new AtomicBoolean();
    /** Bytes offered and not yet taken by the loop. */
    private final AtomicLong inbox = new AtomicLong();
    private volatile Broker.Subscription subscription;
    private volatile boolean done;
    /** What the broker-wide total holds for this subscriber; written on the loop (or by a cut). */
    private volatile long accounted;
    private volatile long queued;
    // the loop's own
    private final ArrayDeque<byte[]> backlog = new ArrayDeque<>();
    private long backlogBytes;
    private boolean touched;
    private ScheduledFuture<?> ping;
    /** Where frames are written: the context of the handler next to the socket (or to TLS). */
    private ChannelHandlerContext out;

    private Subscriber(Channel channel, Outbox outbox) {
      this.channel = channel;
      this.loop = channel.eventLoop();
      this.outbox = outbox;
    }

    void attached(Broker.Subscription subscription) {
      this.subscription = subscription;
    }

    /**
     * Counts {@code count} messages this subscriber lost. A publish may reach it between the broker's
     * join and {@link #attached}; what it loses then is not counted.
     */
    private void lost(long count) {
      Broker.Subscription s = subscription;
      if (s != null && count > 0) {
        s.dropped(count);
      }
    }

    /** 1001 when the broker closed, 1013 when cut off; empty when the client went away first. */
    Mono<Integer> ended() {
      return ended.asMono();
    }

    @Override
    public boolean offer(Message message) {
      if (done) {
        return false;
      }
      byte[] frame = encode(message);
      if (inbox.get() > pendingLimit) {
        // its event loop is not keeping up with the publisher: what waits for the loop is bounded
        // too, by refusing the newest (the loop drops the oldest of what reached it)
        lost(1);
        if (close && cutting.compareAndSet(false, true)) {
          loop.execute(this::cut);
        }
        return true;
      }
      inbox.addAndGet(frame.length);
      outbox.add(new Delivery(this, frame));
      return true;
    }

    /** Bytes queued for this subscriber, the ones still on their way to its event loop included. */
    long pending() {
      return accounted + inbox.get();
    }

    @Override
    public boolean full() {
      return pending() >= pendingLimit;
    }

    @Override
    public long queued() {
      return queued;
    }

    @Override
    public void closed() {
      loop.execute(() -> {
        // what was already taken goes out before the close
        for (byte[] f; (f = backlog.poll()) != null; ) {
          write(f);
        }
        backlogBytes = 0;
        flush();
        end(1001);
      });
    }

    /** On the loop: one frame from the outbox. */
    private void take(byte[] frame, Outbox box) {
      inbox.addAndGet(-frame.length);
      if (done) {
        // taken before it was cut off: lost with what it held
        lost(1);
        return;
      }
      if (backlog.isEmpty() && channel.isWritable()) {
        // within the outbound buffer's high-water mark: accounted at the batch's flush
        if (channel.isActive()) {
          out.write(sharedCopy(box, frame, channel), channel.voidPromise());
          if (!channel.isWritable()) {
            // it just passed the high-water mark: from here on it is falling behind
            account();
          }
        }
        return;
      }
      backlog.add(frame);
      backlogBytes += frame.length;
      long pending = backlogBytes + outbound();
      if (pending > pendingLimit) {
        if (close) {
          cut();
          return;
        }
        long lost = 0;
        while (pending > pendingLimit && !backlog.isEmpty()) {
          int size = backlog.poll().length;
          backlogBytes -= size;
          pending -= size;
          lost++;
        }
        lost(lost);
      }
      // a subscriber falling behind is accounted frame by frame, so the broker-wide cap sees it grow
      account();
    }

    private void write(byte[] frame) {
      if (!channel.isActive()) {
        return;
      }
      out.write(Unpooled.wrappedBuffer(frame), channel.voidPromise());
    }

    private long outbound() {
      ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
      return out == null ? 0 : out.totalPendingWriteBytes();
    }

    /** On the loop: after a batch, or when the socket drained. */
    private void flush() {
      out.flush();
      account();
    }

    private void account() {
      // A subscriber keeping up (writable, nothing held back) has less than the high-water mark on its way
      // to its socket, and is not charged with it: on io_uring a write completes only when the kernel
      // reports it, after the flush, which would leave every such subscriber charged with its last batch
      // until its next one (on epoll the kernel takes it within the flush).
      long now = done || (backlog.isEmpty() && channel.isWritable()) ? 0 : backlogBytes + outbound();
      long before = accounted;
      accounted = now;
      queued = done ? 0 : backlog.size();
      if (now != before) {
        added(now - before);
        if (now > before && total.get() > totalLimit) {
          overCap();
        }
      }
    }

    private void writable() {
      while (!done && !backlog.isEmpty() && channel.isWritable()) {
        byte[] f = backlog.poll();
        backlogBytes -= f.length;
        write(f);
      }
      flush();
    }

    private void ping() {
      if (!done && channel.isActive()) {
        channel.writeAndFlush(new PingWebSocketFrame(), channel.voidPromise());
      }
    }

    /** On the loop: past its limit (or the largest past the broker's): what it held is lost, and it is closed with 1013. */
    private void cut() {
      if (done) {
        return;
      }
      cutting.set(true);
      long lost = backlog.size();
      log.info("broker subscriber {} cut off (1013): {} bytes pending, {} on their way (limit {}), {} for all subscribers (limit {})",
          channel.remoteAddress(), backlogBytes + outbound(), inbox.get(), pendingLimit, total.get(), totalLimit);
      backlog.clear();
      backlogBytes = 0;
      lost(lost);
      Broker.Subscription sub = subscription;
      if (sub != null) {
        sub.cut();
      }
      end(1013);
    }

    /** On the loop: no more frames; the socket handler closes with {@code code}, or nothing when null. */
    private void end(Integer code) {
      if (done) {
        return;
      }
      done = true;
      backlog.clear();
      backlogBytes = 0;
      account();
      live.remove(this);
      if (ping != null) {
        ping.cancel(false);
      }
      Broker.Subscription sub = subscription;
      if (sub != null) {
        sub.leave();
      }
      if (code == null) {
        ended.tryEmitEmpty();
      } else {
        ended.tryEmitValue(code);
      }
    }

    /** The client went away (or reading ended): leave, from any thread. */
    void gone() {
      if (loop.inEventLoop()) {
        end(null);
      } else {
        loop.execute(() -> end(null));
      }
    }
  }
}
