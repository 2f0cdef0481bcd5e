package io.micro.sidecar.core.config;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * How the attached app's health is checked (contract §6), with Dapr's defaults.
 *
 * @param url              what to GET; 200 is healthy ({@code --healthcheck_url}, none by default)
 * @param interval         time between probes ({@code --healthcheck_interval}, default 5 s)
 * @param timeout          a probe without an answer in this long failed ({@code --healthcheck_timeout}, default 1 s)
 * @param failureThreshold consecutive failures that deregister the app
 *                         ({@code --healthcheck_failure_threshold}, default 3)
 * @param successThreshold consecutive successes that register it again
 *                         ({@code --healthcheck_success_threshold}, default 1)
 */
public record HealthConfig(Optional<URI> url, Duration interval, Duration timeout, int failureThreshold,
                           int successThreshold) {

  public static final HealthConfig DEFAULT =
      new HealthConfig(Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(1), 3, 1);

  public HealthConfig {
    if (failureThreshold < 1) {
      throw new InvalidSettingException("healthcheck_failure_threshold", "threshold " + failureThreshold
          + " (expected: 1 or more)");
    }
    if (successThreshold < 1) {
      throw new InvalidSettingException("healthcheck_success_threshold", "threshold " + successThreshold
          + " (expected: 1 or more)");
    }
  }

  public HealthConfig withUrl(URI url) {
    return new HealthConfig(Optional.of(url), interval, timeout, failureThreshold, successThreshold);
  }

  public HealthConfig withTiming(Duration interval, Duration timeout) {
    return new HealthConfig(url, interval, timeout, failureThreshold, successThreshold);
  }
}
