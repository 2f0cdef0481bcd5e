package io.micro.sidecar.core.selector;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Settings of {@link Selector#leastOutstanding(SelectorConfig)}.
 *
 * @param ejectAfterFailures consecutive failures that eject a node; default {@value #DEFAULT_EJECT_AFTER_FAILURES}
 * @param ejectFor how long an ejected node is left out; default 30 s
 * @param ticker the clock of ejections and of forgetting idle nodes; default the system ticker
 * @param random the source of the power-of-two-choices draws; must be safe to call from any thread.
 *     Default: the calling thread's {@link ThreadLocalRandom}
 */
public record SelectorConfig(int ejectAfterFailures, Duration ejectFor, Ticker ticker, RandomGenerator random) {

  public static final int DEFAULT_EJECT_AFTER_FAILURES = 5;
  public static final Duration DEFAULT_EJECT_FOR = Duration.ofSeconds(30);

  public SelectorConfig {
    if (ejectAfterFailures < 1) {
      throw new IllegalArgumentException(
          "ejectAfterFailures: " + ejectAfterFailures + " (expected: at least 1)");
    }
    Objects.requireNonNull(ejectFor, "ejectFor");
    if (ejectFor.isNegative() || ejectFor.isZero()) {
      throw new IllegalArgumentException("ejectFor: " + ejectFor + " (expected: a positive duration)");
    }
    Objects.requireNonNull(ticker, "ticker");
    Objects.requireNonNull(random, "random");
  }

  /** 5 failures, 30 s, the system ticker, thread-local randomness. */
  public static SelectorConfig defaults() {
    return new SelectorConfig(DEFAULT_EJECT_AFTER_FAILURES, DEFAULT_EJECT_FOR, Ticker.systemTicker(),
        threadLocalRandom());
  }

  /** Looks the generator up on every call, so one instance may be shared by every thread. */
  private static RandomGenerator threadLocalRandom() {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        return ThreadLocalRandom.current().nextLong();
      }

      @Override
      public int nextInt(int bound) {
        return ThreadLocalRandom.current().nextInt(bound);
      }

      @Override
      public String toString() {
        return "ThreadLocalRandom";
      }
    };
  }
}
