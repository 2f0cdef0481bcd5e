package io.micro.sidecar.server.stats;

import io.micro.sidecar.server.trace.TraceParent;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the SLF4J logger {@code access}, once the response is complete:
 * <pre>access - 127.0.0.1 POST /rpc 200 57 1.234ms trace=4bf92f3577b34da6a3ce929d0e0e4736</pre>
 * client address, method, URI as sent, status, body bytes ({@code -} when streamed without a length),
 * duration, and the W3C trace id when the request carried one. Off ({@code --access_log=false}) or with
 * the logger above INFO, nothing is formatted at all.
 *
 * <p>The event loop only builds the line and hands it to a bounded queue; one daemon thread writes
 * the lines to stderr in slf4j-simple's format, a batch per write every 100 ms (sooner only when a
 * batch fills), so a slow stderr (a full pipe, a slow terminal) can never stall request handling and a
 * busy sidecar does not pay a system call and a thread wake-up per line. (At one batch per 10 ms, the
 * writer's wake-ups, time stamps and character encoding cost a sidecar serving 1,000 requests/s about
 * 12 µs of CPU per request, more than the rest of the logging.) Each line is stamped when its request
 * ends, not when it is written. When the queue is full lines are dropped, counted,
 * and the count is logged. Whether lines are written at all follows the logger {@code access}'s level. Owns its thread; {@link
 * #close()} writes what is queued and stops it.
 */
final class AccessLog implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger("access");
  private static final int QUEUE = 16_384;
  private static final long PAUSE_NANOS = 100_000_000;
  private static final int BATCH = 4096;
  /** slf4j-simple's format as the sidecar configures it ({@code simplelogger.properties}), so every line on stderr looks alike. */
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

  private final boolean enabled;
  private final BlockingQueue<String> lines;
  private final LongAdder dropped = new LongAdder();
  private final Thread writer;
  private volatile boolean closed;
  private volatile Second second = new Second(Long.MIN_VALUE, "", "");

  AccessLog(boolean enabled) {
    this.enabled = enabled && log.isInfoEnabled();
    this.lines = this.enabled ? new ArrayBlockingQueue<>(QUEUE) : null;
    this.writer = this.enabled ? new Thread(this::drain, "access-log") : null;
    if (writer != null) {
      writer.setDaemon(true);
      writer.start();
    }
  }

  /**
   * Appends {@code millis} in slf4j-simple's format: the part up to the second is formatted once a
   * second and shared (a racing thread may format it again: harmless), the milliseconds appended.
   */
  private StringBuilder stamp(StringBuilder b, long millis) {
    Second s = second;
    long epochSecond = Math.floorDiv(millis, 1000);
    if (s.epochSecond != epochSecond) {
      String whole = STAMP.format(Instant.ofEpochSecond(epochSecond).atZone(ZoneId.systemDefault()));
      int dot = whole.indexOf('.');
      s = new Second(epochSecond, whole.substring(0, dot + 1), whole.substring(dot + 4));
      second = s;
    }
    int ms = (int) Math.floorMod(millis, 1000);
    return b.append(s.date).append(ms < 100 ? (ms < 10 ? "00" : "0") : "").append(ms).append(s.zone);
  }

  /** One second's time stamp: the part before the milliseconds and the zone after them. */
  private record Second(long epochSecond, String date, String zone) {}

  boolean enabled() {
    return enabled;
  }

  void log(InetSocketAddress remote, String method, String uri, String traceparent, int status, long bytes, long nanos) {
    String trace = TraceParent.traceId(traceparent);
    StringBuilder b = new StringBuilder(128);
    stamp(b, System.currentTimeMillis()).append(" INFO access - ");
    b.append(remote == null || remote.getAddress() == null ? "-" : remote.getAddress().getHostAddress())
        .append(' ').append(method).append(' ').append(uri).append(' ').append(status).append(' ');
    if (bytes < 0) {
      b.append('-');
    } else {
      b.append(bytes);
    }
    long micros = nanos / 1_000;
    b.append(' ').append(micros / 1_000).append('.');
    long frac = micros % 1_000;
    b.append(frac < 100 ? (frac < 10 ? "00" : "0") : "").append(frac).append("ms");
    if (trace != null) {
      b.append(" trace=").append(trace);
    }
    if (!lines.offer(b.toString())) {
      dropped.increment();
    }
  }

  /**
   * Writes what has queued up, then parks for {@link #PAUSE_NANOS} unless the batch was full: producers
   * never wake this thread (a wake-up per request costs more than formatting the line), and each batch
   * is one write, of bytes (not through the stream's character encoder).
   */
  private void drain() {
    List<String> batch = new ArrayList<>(1024);
    StringBuilder out = new StringBuilder(16 * 1024);
    while (true) {
      boolean last = closed;
      int n = lines.drainTo(batch, BATCH);
      if (n > 0) {
        for (String line : batch) {
          out.append(line).append('\n');
        }
        batch.clear();
        long lost = dropped.sumThenReset();
        if (lost > 0) {
          stamp(out, System.currentTimeMillis()).append(" WARN access - ").append(lost)
              .append(" access log line(s) dropped: the log could not keep up\n");
        }
        // System.err as it is now: slf4j-simple writes there too, and tests capture it
        byte[] bytes = out.toString().getBytes(StandardCharsets.UTF_8);
        PrintStream err = System.err;
        err.write(bytes, 0, bytes.length);
        err.flush();
        out.setLength(0);
      } else if (last) {
        return;
      }
      if (n < BATCH && !closed) {
        LockSupport.parkNanos(PAUSE_NANOS);
      }
    }
  }

  /** Writes what is queued (waiting up to two seconds) and stops the writer. */
  @Override
  public void close() {
    closed = true;
    if (writer != null) {
      LockSupport.unpark(writer);
      try {
        writer.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
