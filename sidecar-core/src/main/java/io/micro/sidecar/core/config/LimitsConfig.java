package io.micro.sidecar.core.config;

import java.time.Duration;

/**
 * What the server accepts before it refuses, with defaults that let real traffic through and stop
 * abuse. One client must never be able to hold more than its share: every wait has a deadline and
 * every byte buffered on a client's behalf counts against one budget.
 *
 * @param maxHeaderBytes   all request headers together ({@code --max_header_size}, default 16 KiB; over → 431)
 * @param maxUrlLength     the request line ({@code --max_url_length}, default 8 KiB; over → 414)
 * @param headerTimeout    a new connection's first request, and any request once its first byte is in,
 *                         must have its headers within this; a silent or slow-loris client is dropped
 *                         ({@code --header_timeout}, default 10 s)
 * @param bodyTimeout      the longest pause while a request body is arriving; a body trickled slower
 *                         is cut ({@code --body_timeout}, default 30 s, as nginx's
 *                         {@code client_body_timeout} but shorter than the idle timeout)
 * @param idleTimeout      a keep-alive connection with no request for this long is closed, and so is a
 *                         connection whose client reads none of its answer for this long
 *                         ({@code --idle_timeout}, default 60 s)
 * @param maxConnections   open client connections at most; more are closed at once
 *                         ({@code --max_connections}, default 10000)
 * @param maxBufferedBytes request bodies being read into memory and answers written but not yet taken
 *                         by their clients, together, across every connection; past it new work that
 *                         would buffer more is answered 503 ({@code --max_buffered_bytes}, default
 *                         64 MiB: half the launcher's heap, so buffering alone can never exhaust it)
 */
public record LimitsConfig(int maxHeaderBytes, int maxUrlLength, Duration headerTimeout, Duration bodyTimeout,
                           Duration idleTimeout, int maxConnections, long maxBufferedBytes) {

  public static final long DEFAULT_MAX_BUFFERED_BYTES = 64L * 1024 * 1024;

  public static final LimitsConfig DEFAULT = new LimitsConfig(16 * 1024, 8 * 1024, Duration.ofSeconds(10),
      Duration.ofSeconds(30), Duration.ofSeconds(60), 10_000, DEFAULT_MAX_BUFFERED_BYTES);

  public LimitsConfig {
    atLeast("max_header_size", maxHeaderBytes, 1024, " bytes");
    atLeast("max_url_length", maxUrlLength, 256, " bytes");
    atLeast("max_connections", maxConnections, 1, "");
    atLeast("max_buffered_bytes", maxBufferedBytes, 64 * 1024, " bytes");
    positive("header_timeout", headerTimeout);
    positive("body_timeout", bodyTimeout);
    positive("idle_timeout", idleTimeout);
  }

  /** These limits with another buffering budget. */
  public LimitsConfig withMaxBufferedBytes(long bytes) {
    return new LimitsConfig(maxHeaderBytes, maxUrlLength, headerTimeout, bodyTimeout, idleTimeout, maxConnections, bytes);
  }

  /** These limits with other header and body timeouts. */
  public LimitsConfig withTimeouts(Duration header, Duration body) {
    return new LimitsConfig(maxHeaderBytes, maxUrlLength, header, body, idleTimeout, maxConnections, maxBufferedBytes);
  }

  private static void atLeast(String setting, long value, long least, String unit) {
    if (value < least) {
      throw new InvalidSettingException(setting, value + unit + " (expected: at least " + least + unit + ")");
    }
  }

  private static void positive(String setting, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new InvalidSettingException(setting, GoDuration.format(d) + " (expected: a positive duration)");
    }
  }
}
