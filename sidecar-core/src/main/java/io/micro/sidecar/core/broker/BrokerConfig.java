package io.micro.sidecar.core.broker;

import java.util.Locale;

/**
 * How the in-process broker buffers for its subscribers.
 *
 * @param bufferSize most messages held for one subscriber that is not keeping up
 *                   ({@code --broker_buffer}, default 1024)
 * @param overflow   what happens to a subscriber whose buffer is full when another message arrives
 *                   ({@code --broker_overflow}, default {@link Overflow#DROP_OLDEST})
 */
public record BrokerConfig(int bufferSize, Overflow overflow) {

  public static final int DEFAULT_BUFFER_SIZE = 1024;
  /** Large enough for any sane subscriber, small enough that a typo cannot ask for gigabytes. */
  public static final int MAX_BUFFER_SIZE = 1 << 20;
  public static final BrokerConfig DEFAULT = new BrokerConfig(DEFAULT_BUFFER_SIZE, Overflow.DROP_OLDEST);

  public BrokerConfig {
    if (bufferSize < 1 || bufferSize > MAX_BUFFER_SIZE) {
      throw new IllegalArgumentException("buffer size: " + bufferSize + " (expected: 1 to " + MAX_BUFFER_SIZE + " messages)");
    }
    if (overflow == null) {
      throw new IllegalArgumentException("overflow: missing (expected: drop_oldest or close)");
    }
  }

  /** What a full subscriber buffer does with one more message. */
  public enum Overflow {
    /** Drop the oldest buffered message to make room, and count it. The subscriber keeps going. */
    DROP_OLDEST,
    /**
     * End the subscriber with {@link SlowSubscriberException} (a WebSocket closes with 1013), so the
     * client knows it missed messages instead of silently losing some.
     */
    CLOSE;

    /** Parses {@code drop_oldest} or {@code close}, in any case. */
    public static Overflow of(String text) {
      return switch (text == null ? "" : text.trim().toLowerCase(Locale.ROOT)) {
        case "drop_oldest" -> DROP_OLDEST;
        case "close" -> CLOSE;
        default -> throw new IllegalArgumentException("'" + text + "' (expected: drop_oldest or close)");
      };
    }
  }
}
