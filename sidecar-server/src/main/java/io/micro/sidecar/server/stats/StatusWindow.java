package io.micro.sidecar.server.stats;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Responses by status class in 5-second buckets, the last 24 kept (two minutes), as the original
 * {@code /stats} counted them (contract §8), but from the status actually answered.
 *
 * <p>A ring of buckets indexed by time: recording finds the bucket of the current 5 seconds and resets
 * it first if it still holds an older period. Thread-safe and lock-free except for that reset, once
 * per bucket per 5 seconds. A response recorded by a thread that read the clock just before a reset
 * may land in the new period: off by one at a bucket's edge, never lost from the totals.
 */
final class StatusWindow {

  static final int BUCKETS = 24;
  static final long WIDTH_SECONDS = 5;
  /** Index 0 holds codes outside 100..599; 1..5 the classes. */
  private static final int CLASSES = 6;

  private final LongSupplier epochSeconds;
  private final Bucket[] ring = new Bucket[BUCKETS];

  /** @param epochSeconds the clock, in Unix seconds */
  StatusWindow(LongSupplier epochSeconds) {
    this.epochSeconds = epochSeconds;
    for (int i = 0; i < BUCKETS; i++) {
      ring[i] = new Bucket();
    }
  }

  void record(int status) {
    long period = epochSeconds.getAsLong() / WIDTH_SECONDS;
    Bucket b = ring[(int) (period % BUCKETS)];
    if (b.period != period) {
      b.reset(period);
    }
    b.counts.incrementAndGet(classOf(status));
  }

  static int classOf(int status) {
    return status >= 100 && status <= 599 ? status / 100 : 0;
  }

  /** {@code 2} → {@code "20x"}: the original's keys. */
  static String key(int statusClass) {
    return statusClass == 0 ? "other" : statusClass + "0x";
  }

  /**
   * The buckets from {@code since} (Unix seconds; older periods are not listed) to now, oldest
   * first, empty periods included, at most {@link #BUCKETS}.
   */
  List<Counter> snapshot(long since) {
    long now = epochSeconds.getAsLong() / WIDTH_SECONDS;
    long first = Math.max(since / WIDTH_SECONDS, now - BUCKETS + 1);
    List<Counter> out = new ArrayList<>(BUCKETS);
    for (long p = first; p <= now; p++) {
      Bucket b = ring[(int) (p % BUCKETS)];
      long[] counts = new long[CLASSES];
      if (b.period == p) {
        for (int c = 0; c < CLASSES; c++) {
          counts[c] = b.counts.get(c);
        }
      }
      out.add(new Counter(p * WIDTH_SECONDS, counts));
    }
    return out;
  }

  /** One period: its start in Unix seconds and its responses by class (index = class, 0 = other). */
  record Counter(long timestamp, long[] byClass) {

    long total() {
      long t = 0;
      for (long n : byClass) {
        t += n;
      }
      return t;
    }
  }

  private static final class Bucket {
    volatile long period = -1;
    final AtomicLongArray counts = new AtomicLongArray(CLASSES);

    synchronized void reset(long to) {
      if (period != to) {
        for (int c = 0; c < CLASSES; c++) {
          counts.set(c, 0);
        }
        period = to;
      }
    }
  }
}
