package io.micro.sidecar.server.stats;

import io.micro.sidecar.server.trace.TraceParent;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.http.server.HttpServerRequest;

/**
 * One line per request on the SLF4J logger {@code access}, once the response is complete:
 * <pre>access - 127.0.0.1 POST /rpc 200 57 1.234ms trace=4bf92f3577b34da6a3ce929d0e0e4736</pre>
 * client address, method, URI as sent, status, body bytes ({@code -} when streamed without a length),
 * duration, and the W3C trace id when the request carried one. Off ({@code --access_log=false}) or with
 * the logger above INFO, nothing is formatted at all.
 *
 * <p>The event loop only builds the line and hands it to a bounded queue; one daemon thread writes
 * the lines, so a slow stderr (a full pipe, a slow terminal) can never stall request handling. When
 * the queue is full lines are dropped, counted, and the count is logged. Owns its thread; {@link
 * #close()} writes what is queued and stops it.
 */
final class AccessLog implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger("access");
  private static final int QUEUE = 16_384;

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

  void log(HttpServerRequest req, int status, long bytes, long nanos) {
    InetSocketAddress remote = req.remoteAddress();
    String trace = TraceParent.traceId(req.requestHeaders().get(TraceParent.TRACEPARENT));
    StringBuilder b = new StringBuilder(96);
    b.append(remote == null || remote.getAddress() == null ? "-" : remote.getAddress().getHostAddress())
        .append(' ').append(req.method().name()).append(' ').append(req.uri()).append(' ').append(status).append(' ');
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

  private void drain() {
    List<String> batch = new ArrayList<>(256);
    while (!closed || !lines.isEmpty()) {
      try {
        String first = lines.poll(1, TimeUnit.SECONDS);
        if (first != null) {
          log.info(first);
          lines.drainTo(batch, 255);
          batch.forEach(log::info);
          batch.clear();
        }
        long lost = dropped.sumThenReset();
        if (lost > 0) {
          log.warn("{} access log line(s) dropped: the log could not keep up", lost);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
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
