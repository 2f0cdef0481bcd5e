package io.micro.sidecar.core.config;

import java.time.Duration;

/**
 * Registration and shutdown timing.
 *
 * @param registerTtl   TTL of the registrations the sidecar keeps alive itself (the app's among
 *                      them): how fast a crashed sidecar's app disappears from a shared registry
 *                      ({@code --register_ttl}, default 15 s)
 * @param shutdownDelay after deregistering the app on SIGTERM, keep serving this long so that the
 *                      deregistration reaches every caller ({@code --shutdown_delay}, default 2 s)
 * @param shutdownGrace the most a shutdown takes, delay and draining included; what is left after
 *                      it is forced ({@code --shutdown_grace}, default 15 s)
 * @param registerInterval how often the app's registration is checked for and restored if someone
 *                      deleted it ({@code micro --register_interval}, integer seconds as in the
 *                      original; default 10 s)
 */
public record LifecycleConfig(Duration registerTtl, Duration shutdownDelay, Duration shutdownGrace,
                              Duration registerInterval) {

  public static final Duration DEFAULT_REGISTER_INTERVAL = Duration.ofSeconds(10);

  public static final LifecycleConfig DEFAULT =
      new LifecycleConfig(Duration.ofSeconds(15), Duration.ofSeconds(2), Duration.ofSeconds(15));

  /** With the default register interval. */
  public LifecycleConfig(Duration registerTtl, Duration shutdownDelay, Duration shutdownGrace) {
    this(registerTtl, shutdownDelay, shutdownGrace, DEFAULT_REGISTER_INTERVAL);
  }

  public LifecycleConfig {
    if (registerInterval.isNegative() || registerInterval.isZero()) {
      throw new InvalidSettingException("register_interval", "register interval " + GoDuration.format(registerInterval)
          + " (expected: a positive duration)");
    }
    if (shutdownDelay.compareTo(shutdownGrace) >= 0) {
      throw new InvalidSettingException("shutdown_delay", "shutdown delay " + GoDuration.format(shutdownDelay)
          + " (expected: shorter than the shutdown grace " + GoDuration.format(shutdownGrace) + ")");
    }
  }
}
