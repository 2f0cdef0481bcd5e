package io.micro.sidecar.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * Fan-out load: one publisher at a fixed rate, N WebSocket subscribers of one topic, against the
 * sidecar's {@code /broker} or nats-server's WebSocket listener, measured the same way.
 *
 * <pre>
 * java -cp sidecar-bench/target/benchmarks.jar io.micro.sidecar.bench.load.FanoutClient \
 *   --target sidecar --subscribe ws://127.0.0.1:8081/broker?topic=fanout \
 *   --publish http://127.0.0.1:8081/broker?topic=fanout --subscribers 100 --rate 1000 --duration 10s
 * java -cp ... FanoutClient --target nats --subscribe ws://127.0.0.1:8222 --publish nats://127.0.0.1:4222 ...
 * </pre>
 *
 * <p>Every payload starts with the publisher's {@link System#nanoTime()} in 16 hex digits; publisher and
 * subscribers share this JVM, so a subscriber's latency is its receive time minus that stamp. Only
 * messages published in the measurement window (after the warm-up) are counted; the client then waits
 * for stragglers. The sidecar publisher POSTs {@code /broker}, pipelined on one socket (the subscribers'
 * frames are {@code {"Header":..,"Body":"<base64>"}}); the NATS publisher writes {@code PUB} on plain TCP and the
 * subscribers speak NATS over WebSocket ({@code CONNECT}, {@code SUB}, {@code MSG}, {@code PING/PONG}).
 * Prints one {@code RESULT key=value ...} line.
 *
 * <p>Over 300 lines on purpose: a load tool in one file, both protocols side by side, so that what the
 * two servers are asked to do can be compared by reading it.
 */
public final class FanoutClient {

  static final String SUBJECT = "fanout";

  private final Options o;
  private final LatencyHistogram latency = new LatencyHistogram();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final AtomicInteger closedEarly = new AtomicInteger();
  /** Set once the run is over, so that closing the subscribers is not counted as them dropping out. */
  private volatile boolean finished;
  /** Publisher errors during the warm-up, which the result leaves out. */
  private long errorsBeforeWindow;
  private volatile long windowStart = Long.MAX_VALUE;
  private volatile long windowEnd = Long.MAX_VALUE;

  private FanoutClient(Options o) {
    this.o = o;
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    System.out.println(new FanoutClient(o).run());
    System.exit(0);
  }

  String run() throws Exception {
    LoopResources loops = LoopResources.create("fanout", o.threads, true);
    ConnectionProvider sockets = ConnectionProvider.newConnection();
    HttpClient ws = HttpClient.create(sockets).runOn(loops);
    List<Disposable> subscribers = new ArrayList<>();
    Publisher publisher = null;
    try {
      List<Mono<Void>> connecting = new ArrayList<>();
      for (int i = 0; i < o.subscribers; i++) {
        Sinks.Empty<Void> ready = Sinks.empty();
        connecting.add(ready.asMono());
        subscribers.add(o.nats ? natsSubscriber(ws, ready) : sidecarSubscriber(ws, ready));
        if (i % 50 == 49) { // let the server's accept queue keep up
          Mono.when(connecting).block(Duration.ofSeconds(30));
        }
      }
      // every subscriber has its handshake (NATS: its SUB answered by a PONG); anything that still takes a
      // moment on the server is covered by the warm-up, whose messages are not counted
      Mono.when(connecting).block(Duration.ofSeconds(60));

      publisher = o.nats ? new NatsPublisher(o.publish) : new SidecarPublisher(o.publish);
      long sent = publish(publisher);
      long expected = sent * o.subscribers;
      long waitUntil = System.nanoTime() + o.drain.toNanos();
      // the main thread polls the event loops' counter until the deliveries are in or the drain time is up
      while (delivered.sum() < expected && System.nanoTime() < waitUntil) {
        LockSupport.parkNanos(20_000_000);
      }
      double seconds = o.duration.toNanos() / 1e9;
      long got = delivered.sum();
      return String.format(Locale.ROOT,
          "RESULT target=%s subscribers=%d rate=%d size=%d seconds=%.1f sent=%d expected=%d delivered=%d "
              + "delivered_per_s=%.0f loss_pct=%.2f p50_us=%d p99_us=%d p999_us=%d max_us=%d "
              + "publish_errors=%d subscriber_errors=%d closed_early=%d",
          o.nats ? "nats" : "sidecar", o.subscribers, o.rate, o.size, seconds, sent, expected, got,
          got / seconds, expected == 0 ? 0.0 : 100.0 * (expected - got) / expected,
          latency.percentileMicros(0.50), latency.percentileMicros(0.99), latency.percentileMicros(0.999),
          latency.percentileMicros(1.0), publisher.errors() - errorsBeforeWindow, errors.sum(), closedEarly.get());
    } finally {
      finished = true;
      subscribers.forEach(Disposable::dispose);
      if (publisher != null) {
        publisher.close();
      }
      sockets.disposeLater().block(Duration.ofSeconds(5));
      loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
    }
  }

  /** Publishes at the fixed rate through warm-up and window; returns how many were in the window. */
  private long publish(Publisher publisher) {
    long interval = 1_000_000_000L / o.rate;
    long start = System.nanoTime();
    windowStart = start + o.warmup.toNanos();
    windowEnd = windowStart + o.duration.toNanos();
    byte[] padding = new byte[Math.max(0, o.size - 16)];
    Arrays.fill(padding, (byte) 'x');
    long inWindow = 0;
    boolean counting = false;
    for (long i = 0; ; i++) {
      long due = start + i * interval;
      if (due >= windowEnd) {
        return inWindow;
      }
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      long now = System.nanoTime();
      byte[] payload = new byte[16 + padding.length];
      byte[] stamp = String.format("%016x", now).getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(stamp, 0, payload, 0, 16);
      System.arraycopy(padding, 0, payload, 16, padding.length);
      publisher.publish(payload);
      if (now >= windowStart) {
        if (!counting) {
          counting = true;
          errorsBeforeWindow = publisher.errors();
        }
        inWindow++;
      }
    }
  }

  /** A payload arrived at a subscriber; {@code stamp} is the publisher's nanoTime in it. */
  private void received(long stamp) {
    long now = System.nanoTime();
    if (stamp < windowStart || stamp >= windowEnd) {
      return;
    }
    delivered.increment();
    latency.recordNanos(now - stamp);
  }

  // ---- the sidecar: text frames {"Header":{..},"Body":"<base64>"} ----

  private static final byte[] BODY = "\"Body\":\"".getBytes(StandardCharsets.US_ASCII);

  private Disposable sidecarSubscriber(HttpClient ws, Sinks.Empty<Void> ready) {
    ByteBuf needle = Unpooled.wrappedBuffer(BODY);
    return ws.websocket(WebsocketClientSpec.builder().maxFramePayloadLength(1 << 20).build())
        .uri(o.subscribe)
        .handle((in, out) -> {
          ready.tryEmitEmpty();
          return in.aggregateFrames().receiveFrames().doOnNext(f -> {
            ByteBuf c = f.content();
            int at = ByteBufUtil.indexOf(needle.duplicate(), c);
            if (at < 0) {
              errors.increment();
              return;
            }
            // 24 base64 characters are the first 18 payload bytes: the 16 hex digits of the stamp and 2 more
            byte[] b64 = new byte[24];
            c.getBytes(at + BODY.length, b64);
            received(hex(Base64.getDecoder().decode(b64), 0));
          }).then();
        })
        .doFinally(s -> {
          if (!finished) {
            closedEarly.incrementAndGet();
          }
        })
        .subscribe(null, e -> {
          errors.increment();
          ready.tryEmitEmpty();
        });
  }

  // ---- NATS over WebSocket: a byte stream of protocol lines, split across binary frames at will ----

  private static final byte[] CONNECT = ("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB " + SUBJECT
      + " 1\r\nPING\r\n").getBytes(StandardCharsets.US_ASCII);

  private Disposable natsSubscriber(HttpClient ws, Sinks.Empty<Void> ready) {
    return ws.websocket(WebsocketClientSpec.builder().maxFramePayloadLength(1 << 20).build())
        .uri(o.subscribe)
        .handle((in, out) -> {
          Sinks.Many<byte[]> outgoing = Sinks.unsafe().many().unicast().onBackpressureBuffer();
          outgoing.tryEmitNext(CONNECT);
          NatsStream stream = new NatsStream(outgoing, ready);
          return Mono.when(
              out.sendObject(outgoing.asFlux().map(b -> new BinaryWebSocketFrame(
                  Unpooled.wrappedBuffer(b)))).then(),
              in.receiveFrames().doOnNext(f -> stream.feed(f.content())).doFinally(s -> stream.release()).then());
        })
        .doFinally(s -> {
          if (!finished) {
            closedEarly.incrementAndGet();
          }
        })
        .subscribe(null, e -> {
          errors.increment();
          ready.tryEmitEmpty();
        });
  }

  /** Parses one connection's NATS protocol stream. On the connection's event loop only. */
  private final class NatsStream {
    private final Sinks.Many<byte[]> outgoing;
    private final Sinks.Empty<Void> ready;
    private final ByteBuf buf = Unpooled.buffer(4096);

    NatsStream(Sinks.Many<byte[]> outgoing, Sinks.Empty<Void> ready) {
      this.outgoing = outgoing;
      this.ready = ready;
    }

    void feed(ByteBuf data) {
      buf.writeBytes(data);
      while (true) {
        int start = buf.readerIndex();
        int eol = buf.indexOf(start, buf.writerIndex(), (byte) '\n');
        if (eol < 0) {
          break;
        }
        String line = buf.toString(start, eol - start, StandardCharsets.US_ASCII).trim();
        if (line.startsWith("MSG ")) {
          int size = Integer.parseInt(line.substring(line.lastIndexOf(' ') + 1));
          int payload = eol + 1;
          if (buf.writerIndex() < payload + size + 2) {
            break; // the rest of the message is in a later frame
          }
          byte[] stamp = new byte[16];
          buf.getBytes(payload, stamp);
          received(hex(stamp, 0));
          buf.readerIndex(payload + size + 2);
        } else {
          buf.readerIndex(eol + 1);
          if (line.equals("PING")) {
            outgoing.tryEmitNext("PONG\r\n".getBytes(StandardCharsets.US_ASCII));
          } else if (line.equals("PONG")) {
            ready.tryEmitEmpty(); // CONNECT and SUB were processed
          } else if (line.startsWith("-ERR")) {
            errors.increment();
            System.err.println("nats: " + line);
          }
        }
      }
      buf.discardSomeReadBytes();
    }

    void release() {
      buf.release();
    }
  }

  static long hex(byte[] b, int from) {
    long v = 0;
    for (int i = from; i < from + 16; i++) {
      v = (v << 4) | Character.digit(b[i], 16);
    }
    return v;
  }

  // ---- publishers ----

  interface Publisher extends AutoCloseable {
    /** Sends one message without waiting for the server; never blocks for long. */
    void publish(byte[] payload);

    long errors();

    @Override
    void close();
  }

  /**
   * POSTs each message to {@code /broker?topic=} on one plain keep-alive TCP connection, pipelined, the
   * way the NATS publisher writes {@code PUB}: the publishing thread writes the request and goes on, a
   * reader thread reads the answers (any but 200 is an error). At most 256 unanswered; past that a
   * message is not sent and counted as an error. An HTTP client library in between (reactor-netty's
   * cost several times this client's CPU per publish, on the cores the servers share) measured the
   * client, not the sidecar.
   */
  private static final class SidecarPublisher implements Publisher {
    private final Socket socket;
    private final OutputStream out;
    private final byte[] head;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LongAdder errors = new LongAdder();

    SidecarPublisher(String url) throws IOException {
      URI u = URI.create(url);
      socket = new Socket(u.getHost(), u.getPort());
      socket.setTcpNoDelay(true);
      out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
      head = ("POST " + u.getRawPath() + "?" + u.getRawQuery() + " HTTP/1.1\r\nHost: " + u.getHost() + ":" + u.getPort()
          + "\r\nContent-Type: text/plain\r\nContent-Length: ").getBytes(StandardCharsets.US_ASCII);
      InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
      Thread reader = new Thread(() -> {
        try {
          for (String status; (status = line(in)) != null; ) {
            int length = 0;
            for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
              if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(h.substring(15).trim());
              }
            }
            in.skipNBytes(length);
            if (!status.startsWith("HTTP/1.1 200")) {
              errors.increment();
            }
            inFlight.decrementAndGet();
          }
        } catch (IOException | RuntimeException ignored) {
          // closed
        }
      }, "sidecar-publisher-reader");
      reader.setDaemon(true);
      reader.start();
    }

    /** One line without its CRLF; null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
      StringBuilder b = new StringBuilder(32);
      for (int c; (c = in.read()) != '\n'; ) {
        if (c < 0) {
          return null;
        }
        if (c != '\r') {
          b.append((char) c);
        }
      }
      return b.toString();
    }

    @Override
    public synchronized void publish(byte[] payload) {
      if (inFlight.incrementAndGet() > 256) {
        inFlight.decrementAndGet();
        errors.increment();
        return;
      }
      try {
        out.write(head);
        out.write((payload.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(payload);
        out.flush();
      } catch (IOException e) {
        errors.increment();
      }
    }

    @Override
    public long errors() {
      return errors.sum();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  /** Writes {@code PUB} on one plain NATS TCP connection; a reader thread answers the server's PINGs. */
  private static final class NatsPublisher implements Publisher {
    private final Socket socket;
    private final OutputStream out;
    private final LongAdder errors = new LongAdder();

    NatsPublisher(String url) throws IOException {
      URI u = URI.create(url);
      socket = new Socket(u.getHost(), u.getPort());
      socket.setTcpNoDelay(true);
      out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
      BufferedReader in = new BufferedReader(
          new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      String info = in.readLine(); // INFO {...}
      if (info == null || !info.startsWith("INFO")) {
        throw new IOException("nats: expected INFO, got " + info);
      }
      write("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n".getBytes(StandardCharsets.US_ASCII));
      Thread reader = new Thread(() -> {
        try {
          for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("PING")) {
              write("PONG\r\n".getBytes(StandardCharsets.US_ASCII));
            } else if (line.startsWith("-ERR")) {
              errors.increment();
              System.err.println("nats publisher: " + line);
            }
          }
        } catch (IOException ignored) {
          // closed
        }
      }, "nats-publisher-reader");
      reader.setDaemon(true);
      reader.start();
    }

    private synchronized void write(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    @Override
    public synchronized void publish(byte[] payload) {
      try {
        out.write(("PUB " + SUBJECT + " " + payload.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(payload);
        out.write('\r');
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        errors.increment();
      }
    }

    @Override
    public long errors() {
      return errors.sum();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  /** Command-line options; every default is written here. */
  record Options(boolean nats, String subscribe, String publish, int subscribers, int rate, int size,
                 Duration warmup, Duration duration, Duration drain, int threads) {

    static Options parse(String[] args) {
      Map<String, String> a = new HashMap<>(Map.of(
          "--target", "sidecar", "--subscribers", "10", "--rate", "1000", "--size", "64",
          "--warmup", "2s", "--duration", "10s", "--drain", "3s", "--threads", "2"));
      for (int i = 0; i + 1 < args.length; i += 2) {
        a.put(args[i], args[i + 1]);
      }
      if (!a.containsKey("--subscribe") || !a.containsKey("--publish")) {
        throw new IllegalArgumentException("--subscribe <ws url> and --publish <url> are required");
      }
      String target = a.get("--target");
      if (!target.equals("sidecar") && !target.equals("nats")) {
        throw new IllegalArgumentException("--target: " + target + " (expected: sidecar or nats)");
      }
      int size = Integer.parseInt(a.get("--size"));
      if (size < 18) {
        throw new IllegalArgumentException("--size: " + size + " (expected: at least 18 bytes, the time stamp)");
      }
      return new Options(target.equals("nats"), a.get("--subscribe"), a.get("--publish"),
          Integer.parseInt(a.get("--subscribers")), Integer.parseInt(a.get("--rate")), size,
          seconds(a.get("--warmup")), seconds(a.get("--duration")), seconds(a.get("--drain")),
          Integer.parseInt(a.get("--threads")));
    }

    private static Duration seconds(String s) {
      return Duration.ofMillis((long) (Double.parseDouble(s.replace("s", "")) * 1000));
    }
  }
}
