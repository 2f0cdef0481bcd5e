package io.micro.sidecar.server.http;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;

/**
 * Hears every request once, whichever path serves it: the telemetry ({@code /stats}, {@code /metrics},
 * the access log). Implementations are thread-safe and never block.
 */
public interface ExchangeRecorder {

  /** A request starts: prepares trace context in {@code headers} and returns the start time for {@link #record}. */
  long begin(HttpHeaders headers);

  /**
   * A request was answered (or its client left: 499).
   *
   * @param bytes the answer's body length; -1 when streamed without one
   */
  void record(String method, String uri, InetSocketAddress remote, HttpHeaders headers, int status, long bytes,
              long startNanos);
}
