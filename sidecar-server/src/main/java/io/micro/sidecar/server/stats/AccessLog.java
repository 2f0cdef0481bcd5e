package io.micro.sidecar.server.stats;

import io.micro.sidecar.server.trace.TraceParent;
import java.net.InetSocketAddress;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.http.server.HttpServerRequest;

/**
 * One line per request on the SLF4J logger {@code access}, written once the response is complete:
 * <pre>access - 127.0.0.1 POST /rpc 200 57 1.234ms trace=4bf92f3577b34da6a3ce929d0e0e4736</pre>
 * client address, method, URI as sent, status, body bytes ({@code -} when streamed without a length),
 * duration, and the W3C trace id when the request carried one. Off ({@code --access_log=false}) or with
 * the logger above INFO, nothing is formatted at all.
 *
 * <p>slf4j-simple writes synchronously to stderr on the event loop that finished the response: one
 * short line, no worse than any other log line there. Route it elsewhere with the logging backend.
 */
final class AccessLog {

  private static final Logger log = LoggerFactory.getLogger("access");

  private final boolean enabled;

  AccessLog(boolean enabled) {
    this.enabled = enabled;
  }

  boolean enabled() {
    return enabled && log.isInfoEnabled();
  }

  void log(HttpServerRequest req, int status, long bytes, long nanos) {
    InetSocketAddress remote = req.remoteAddress();
    String client = remote == null || remote.getAddress() == null ? "-" : remote.getAddress().getHostAddress();
    String trace = TraceParent.traceId(req.requestHeaders().get(TraceParent.TRACEPARENT));
    String millis = String.format(Locale.ROOT, "%.3fms", nanos / 1e6);
    if (trace == null) {
      log.info("{} {} {} {} {} {}", client, req.method(), req.uri(), status, bytes < 0 ? "-" : bytes, millis);
    } else {
      log.info("{} {} {} {} {} {} trace={}", client, req.method(), req.uri(), status, bytes < 0 ? "-" : bytes, millis, trace);
    }
  }
}
