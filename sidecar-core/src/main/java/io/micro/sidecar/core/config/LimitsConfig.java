package io.micro.sidecar.core.config;

import java.time.Duration;

/**
 * What the server accepts before it refuses, with defaults that let real traffic through and stop
 * abuse.
 *
 * @param maxHeaderBytes  all request headers together ({@code --max_header_size}, default 16 KiB; over → 431)
 * @param maxUrlLength    the request line ({@code --max_url_length}, default 8 KiB; over → 414)
 * @param headerTimeout   a request's headers must arrive within this once it starts; a slow-loris
 *                        client is dropped ({@code --header_timeout}, default 10 s)
 * @param idleTimeout     a keep-alive connection with no request for this long is closed
 *                        ({@code --idle_timeout}, default 60 s)
 * @param maxConnections  open client connections at most; more are closed at once
 *                        ({@code --max_connections}, default 10000)
 */
public record LimitsConfig(int maxHeaderBytes, int maxUrlLength, Duration headerTimeout, Duration idleTimeout,
                           int maxConnections) {

  public static final LimitsConfig DEFAULT =
      new LimitsConfig(16 * 1024, 8 * 1024, Duration.ofSeconds(10), Duration.ofSeconds(60), 10_000);

  public LimitsConfig {
    if (maxHeaderBytes < 1024 || maxUrlLength < 256 || maxConnections < 1) {
      throw new IllegalArgumentException("limits too small: header " + maxHeaderBytes + " bytes, url " + maxUrlLength
          + " bytes, connections " + maxConnections + " (expected: at least 1024, 256 and 1)");
    }
  }
}
