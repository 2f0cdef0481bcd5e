package io.micro.sidecar.server.stats;

import io.micro.sidecar.server.trace.TraceParent;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.ZonedDateTime;
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
 * the lines to stderr in slf4j-simple's format, a batch per write every 10 ms at most, so a slow
 * stderr (a full pipe, a slow terminal) can never stall request handling and a busy sidecar does not
 * pay a system call and a thread wake-up per line. When the queue is full lines are dropped, counted,
 * and the count is logged. Whether lines are written at all follows the logger {@code access}'s level. Owns its thread; {@link
 * #close()} writes what is queued and stops it.
 */
final class AccessLog implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger("access");
  private static final int QUEUE = 16_384;
  private static final long PAUSE_NANOS = 10_000_000;
  /** slf4j-simple's format as the sidecar configures it ({@code simplelogger.properties}), so every line on stderr looks alike. */
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

  private final boolean enabled;
  private final BlockingQueue<String> lines;
  private final LongAdder dropped = new LongAdder();
  private final Thread writer;
  private volatile boolean closed;

  AccessLog(boolean enabled) {
    this.enabled = enabled && log.isInfoEnabled();
    this.lines = this.enabled ? new ArrayBlockingQueue<>(QUEUE) : null;
    this.writer = this.enabled ? new Thread(this::drain, "access-log") : null;
    if (writer != null) {
      writer.setDaemon(true);
      writer.start();
    }
  }

  boolean enabled() {
    return enabled;
  }

  void log(InetSocketAddress remote, String method, String uri, String traceparent, int status, long bytes, long nanos) {
    String trace = TraceParent.traceId(traceparent);
    StringBuilder b = new StringBuilder(96);
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
   * Writes what has queued up, then parks for {@link #PAUSE_NANOS}: producers never wake this thread
   * (a wake-up per request costs more than formatting the line), and each batch is one write.
   */
  private void drain() {
    List<String> batch = new ArrayList<>(1024);
    StringBuilder out = new StringBuilder(16 * 1024);
    while (true) {
      boolean last = closed;
      lines.drainTo(batch, 4096);
      if (!batch.isEmpty()) {
        String stamp = STAMP.format(ZonedDateTime.now()) + " INFO access - ";
        for (String line : batch) {
          out.append(stamp).append(line).append('\n');
        }
        batch.clear();
        long lost = dropped.sumThenReset();
        if (lost > 0) {
          out.append(STAMP.format(ZonedDateTime.now())).append(" WARN access - ").append(lost)
              .append(" access log line(s) dropped: the log could not keep up\n");
        }
        // System.err as it is now: slf4j-simple writes there too, and tests capture it
        PrintStream err = System.err;
        err.print(out);
        err.flush();
        out.setLength(0);
      } else if (last) {
        return;
      } else {
        LockSupport.parkNanos(PAUSE_NANOS);
      }
    }
  }

  /** Writes what is queued (waiting up to two seconds) and stops the writer. */
  @Override
  public void close() {
    closed = true;
    if (writer != null) {
      try {
        writer.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
