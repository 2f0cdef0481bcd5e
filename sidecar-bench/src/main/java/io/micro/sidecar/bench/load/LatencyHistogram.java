package io.micro.sidecar.bench.load;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Log-linear latency histogram in microseconds: 32 buckets per power of two (about 2% wide), from 1 µs
 * to about 70 minutes. Recording is one atomic increment, safe from any thread; percentiles read the
 * upper bound of the bucket they fall in. Small enough not to need HdrHistogram here.
 */
final class LatencyHistogram {

  private static final int SUB = 32;
  private static final int SUB_BITS = 5;
  private static final int OCTAVES = 33;

  private final AtomicLongArray counts = new AtomicLongArray(OCTAVES * SUB);

  void recordNanos(long nanos) {
    counts.incrementAndGet(index(Math.max(1, nanos / 1000)));
  }

  static int index(long micros) {
    int octave = 63 - Long.numberOfLeadingZeros(micros); // floor(log2)
    if (octave < SUB_BITS) {
      return (int) micros; // exact below 32 µs
    }
    int sub = (int) ((micros >>> (octave - SUB_BITS)) & (SUB - 1));
    int i = (octave - SUB_BITS + 1) * SUB + sub;
    return Math.min(i, OCTAVES * SUB - 1);
  }

  /** The largest value a bucket holds, in µs. */
  static long upperBound(int index) {
    if (index < SUB) {
      return index;
    }
    int octave = index / SUB + SUB_BITS - 1;
    int sub = index % SUB;
    long base = 1L << octave;
    long width = base >>> SUB_BITS;
    return base + (sub + 1) * width - 1;
  }

  long count() {
    long n = 0;
    for (int i = 0; i < counts.length(); i++) {
      n += counts.get(i);
    }
    return n;
  }

  /** The latency at quantile {@code q} (0..1), in µs; 0 when nothing was recorded. */
  long percentileMicros(double q) {
    long total = count();
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < counts.length(); i++) {
      seen += counts.get(i);
      if (seen >= rank) {
        return upperBound(i);
      }
    }
    return upperBound(counts.length() - 1);
  }
}
