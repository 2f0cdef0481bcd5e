package io.micro.sidecar.core.health;

import io.micro.sidecar.core.config.HealthConfig;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Probes the app on an interval and tells when it crosses a threshold: after
 * {@code failureThreshold} consecutive failures it is unhealthy, after {@code successThreshold}
 * consecutive successes healthy again. The app starts out healthy (it was registered at start).
 *
 * <p>Probes run one at a time on {@code scheduler}'s timer (inject a virtual-time scheduler to test
 * without waiting); the listeners run there too and must not block. Owns its timer and stops it in
 * {@link #close()}.
 */
public final class HealthChecker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

  private final HealthConfig config;
  private final String node;
  private final Consumer<ProbeResult> onUnhealthy;
  private final Consumer<ProbeResult> onHealthy;
  private final Disposable timer;
  private boolean healthy = true;
  private int failures;
  private int successes;

  /**
   * @param node        the app's node id, for the log
   * @param onUnhealthy called once when the failure threshold is crossed (deregister)
   * @param onHealthy   called once when the success threshold is crossed after that (register)
   */
  public HealthChecker(HealthConfig config, Supplier<Mono<ProbeResult>> probe, String node, Scheduler scheduler,
                       Consumer<ProbeResult> onUnhealthy, Consumer<ProbeResult> onHealthy) {
    this.config = config;
    this.node = node;
    this.onUnhealthy = onUnhealthy;
    this.onHealthy = onHealthy;
    this.timer = Flux.interval(config.interval(), config.interval(), scheduler)
        .onBackpressureDrop()
        .concatMap(tick -> probe.get(), 1)
        .subscribe(this::observe, e -> log.error("health checking of {} stopped: {}", node, e.toString()));
  }

  /** True until the failure threshold is crossed, and again once the success threshold is. */
  public synchronized boolean healthy() {
    return healthy;
  }

  synchronized void observe(ProbeResult result) {
    if (result.healthy()) {
      failures = 0;
      successes++;
      if (!healthy && successes >= config.successThreshold()) {
        healthy = true;
        log.info("app node {} healthy again after {} successful probe(s); registering it", node, successes);
        onHealthy.accept(result);
      }
    } else {
      successes = 0;
      failures++;
      if (healthy && failures >= config.failureThreshold()) {
        healthy = false;
        log.warn("app node {} unhealthy after {} failed probe(s) ({}); deregistering it", node, failures, result.cause());
        onUnhealthy.accept(result);
      } else if (healthy) {
        log.debug("app node {} probe failed ({}/{}): {}", node, failures, config.failureThreshold(), result.cause());
      }
    }
  }

  @Override
  public void close() {
    timer.dispose();
  }
}
