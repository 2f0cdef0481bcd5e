package io.micro.sidecar.core.config;

import java.time.Duration;

/**
 * How the sidecar calls apps.
 *
 * @param requestTimeout end-to-end deadline of one call, retries included
 *                       ({@code --client_request_timeout}, default 5 s)
 * @param retries        extra attempts on another node, only when the request provably never reached
 *                       the app ({@code --client_retries}, default 1)
 * @param poolSize       most connections kept to one node ({@code --client_pool_size}, default 128)
 * @param idleTimeout    an idle pooled connection is closed after this, before common app keep-alive
 *                       timeouts (Node.js closes after 5 s) can race a request on it
 *                       ({@code --client_idle_timeout}, default 4 s)
 * @param ejectAfter     consecutive failures that eject a node ({@code --client_eject_after}, default 5)
 * @param ejectFor       how long an ejected node gets no calls ({@code --client_eject_for}, default 30 s)
 * @param poolTtl        a pooled connection is not reused once this old; zero: no limit
 *                       ({@code --client_pool_ttl}, go-micro's flag; default none)
 */
public record ClientConfig(Duration requestTimeout, int retries, int poolSize, Duration idleTimeout,
                           int ejectAfter, Duration ejectFor, Duration poolTtl) {

  public static final ClientConfig DEFAULT = new ClientConfig(Duration.ofSeconds(5), 1, 128, Duration.ofSeconds(4),
      5, Duration.ofSeconds(30), Duration.ZERO);

  public ClientConfig {
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new InvalidSettingException("client_request_timeout", "request timeout " + GoDuration.format(requestTimeout) + " (expected: positive)");
    }
    if (retries < 0) {
      throw new InvalidSettingException("client_retries", "retries " + retries + " (expected: 0 or more)");
    }
    if (poolSize < 1) {
      throw new InvalidSettingException("client_pool_size", "pool size " + poolSize + " (expected: 1 or more)");
    }
    if (poolTtl.isNegative()) {
      throw new InvalidSettingException("client_pool_ttl", "pool ttl " + GoDuration.format(poolTtl) + " (expected: zero or positive)");
    }
    if (ejectAfter < 1) {
      throw new InvalidSettingException("client_eject_after", "eject after " + ejectAfter + " (expected: 1 or more)");
    }
  }

  public ClientConfig withRequestTimeout(Duration timeout) {
    return new ClientConfig(timeout, retries, poolSize, idleTimeout, ejectAfter, ejectFor, poolTtl);
  }

  public ClientConfig withRetries(int retries) {
    return new ClientConfig(requestTimeout, retries, poolSize, idleTimeout, ejectAfter, ejectFor, poolTtl);
  }

  public ClientConfig withEjection(int after, Duration duration) {
    return new ClientConfig(requestTimeout, retries, poolSize, idleTimeout, after, duration, poolTtl);
  }
}
