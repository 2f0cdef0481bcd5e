package io.micro.sidecar.core.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.config.HealthConfig;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Thresholds and timing on virtual time: no test here waits for a real second. */
class HealthCheckerTest {

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final Deque<Mono<ProbeResult>> script = new ArrayDeque<>();
  private final List<String> transitions = new ArrayList<>();
  private int probes;
  private HealthChecker checker;

  @AfterEach
  void stop() {
    if (checker != null) {
      checker.close();
    }
    time.dispose();
  }

  private void start(int failures, int successes) {
    HealthConfig config = new HealthConfig(Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(1), failures, successes);
    checker = new HealthChecker(config, () -> {
      probes++;
      Mono<ProbeResult> next = script.poll();
      return next == null ? Mono.just(ProbeResult.ok()) : next;
    }, "foo-1", time, r -> transitions.add("down: " + r.cause()), r -> transitions.add("up"));
  }

  private void answer(ProbeResult... results) {
    for (ProbeResult r : results) {
      script.add(Mono.just(r));
    }
  }

  @Test
  void probesEveryIntervalAndDeregistersOnlyAfterTheFailureThreshold() {
    start(3, 1);
    answer(ProbeResult.status(503), ProbeResult.status(503), ProbeResult.ok(),
        ProbeResult.status(500), ProbeResult.error("connection refused"), ProbeResult.status(404));
    time.advanceTimeBy(Duration.ofSeconds(4));
    assertThat(probes).isZero();
    time.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(probes).isEqualTo(1);
    time.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(probes).isEqualTo(3);
    assertThat(transitions).as("two failures then a success reset the count").isEmpty();
    time.advanceTimeBy(Duration.ofSeconds(15));
    assertThat(probes).isEqualTo(6);
    assertThat(transitions).containsExactly("down: Non 200 response: 404");
    assertThat(checker.healthy()).isFalse();
  }

  @Test
  void registersAgainAfterTheSuccessThresholdAndOnlyOncePerTransition() {
    start(1, 2);
    answer(ProbeResult.status(500), ProbeResult.status(500), ProbeResult.ok(), ProbeResult.status(500),
        ProbeResult.ok(), ProbeResult.ok(), ProbeResult.ok());
    time.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(transitions).containsExactly("down: Non 200 response: 500");
    time.advanceTimeBy(Duration.ofSeconds(15));
    assertThat(transitions).as("a lone success is not enough").hasSize(1);
    time.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(transitions).containsExactly("down: Non 200 response: 500", "up");
    time.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(transitions).hasSize(2);
    assertThat(checker.healthy()).isTrue();
  }

  @Test
  void aProbeThatNeverAnswersIsAFailureWithinTheTimeoutAndProbesDoNotPileUp() {
    start(2, 1);
    HealthConfig config = HealthConfig.DEFAULT;
    // the real probe bounds itself by the timeout; here a hanging app is a Mono that answers at the timeout
    script.add(Mono.delay(config.timeout(), time).map(t -> ProbeResult.error("no answer within 1000ms")));
    script.add(Mono.delay(config.timeout(), time).map(t -> ProbeResult.error("no answer within 1000ms")));
    time.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(transitions).isEmpty();
    time.advanceTimeBy(Duration.ofSeconds(6));
    assertThat(transitions).containsExactly("down: no answer within 1000ms");
  }

  @Test
  void probeResultsDescribeTheCause() {
    assertThat(ProbeResult.status(200)).isEqualTo(ProbeResult.ok());
    assertThat(ProbeResult.status(503).cause()).isEqualTo("Non 200 response: 503");
    assertThat(ProbeResult.error("refused").status()).isZero();
  }
}
