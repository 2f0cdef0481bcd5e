package io.micro.sidecar.core.broker;

import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.InvalidSettingException;
import java.util.Locale;

/**
 * Which broker runs and how it buffers for its subscribers.
 *
 * @param bufferSize       most messages held for one subscriber that is not keeping up
 *                         ({@code --broker_buffer}, default 1024)
 * @param overflow         what happens to a subscriber whose buffer is full when another message arrives
 *                         ({@code --broker_overflow}, default {@link Overflow#DROP_OLDEST})
 * @param kind             in-process only, or shared with the sidecars of the registry
 *                         ({@code --broker}, default {@link Kind#MEMORY})
 * @param advertiseAddress the host other sidecars reach this one's {@code /_sub} at under
 *                         {@link Kind#HTTP} ({@code --advertise_address}); empty (the default) means
 *                         the listen host, or {@code 127.0.0.1} when listening on every interface
 * @param pendingBytes     most bytes queued for one WebSocket subscriber's socket before
 *                         {@code overflow} applies to it ({@code --broker_pending_bytes}, default 32 MiB)
 * @param maxPendingBytes  most bytes queued for all WebSocket subscribers together; past it the
 *                         subscribers with the most pending are cut off first
 *                         ({@code --broker_max_pending_bytes}, default 64 MiB)
 */
public record BrokerConfig(int bufferSize, Overflow overflow, Kind kind, String advertiseAddress,
                           long pendingBytes, long maxPendingBytes) {

  public static final int DEFAULT_BUFFER_SIZE = 1024;
  /** Large enough for any sane subscriber, small enough that a typo cannot ask for gigabytes. */
  public static final int MAX_BUFFER_SIZE = 1 << 20;
  /** What a sidecar listening on every interface advertises when {@code --advertise_address} is absent. */
  public static final String DEFAULT_ADVERTISE_HOST = "127.0.0.1";
  /**
   * In NATS's spirit (64 MiB per connection), sized to the heap {@code bin/micro} gives the sidecar
   * (128 MiB): one stalled subscriber may hold a quarter of it, all of them together half.
   */
  public static final long DEFAULT_PENDING_BYTES = 32L << 20;
  public static final long DEFAULT_MAX_PENDING_BYTES = 64L << 20;
  public static final BrokerConfig DEFAULT = new BrokerConfig(DEFAULT_BUFFER_SIZE, Overflow.DROP_OLDEST);

  public BrokerConfig(int bufferSize, Overflow overflow, Kind kind, String advertiseAddress) {
    this(bufferSize, overflow, kind, advertiseAddress, DEFAULT_PENDING_BYTES, DEFAULT_MAX_PENDING_BYTES);
  }

  /** The in-process broker with these buffers. */
  public BrokerConfig(int bufferSize, Overflow overflow) {
    this(bufferSize, overflow, Kind.MEMORY, "");
  }

  public BrokerConfig {
    if (kind == null) {
      throw new InvalidSettingException("broker", "broker: missing (expected: memory or http)");
    }
    advertiseAddress = advertiseAddress == null ? "" : advertiseAddress.trim();
    if (advertiseAddress.contains("/") || advertiseAddress.chars().anyMatch(Character::isWhitespace)) {
      throw new InvalidSettingException("advertise_address", "'" + advertiseAddress + "' (expected: a host name or IP address)");
    }
    if (bufferSize < 1 || bufferSize > MAX_BUFFER_SIZE) {
      throw new InvalidSettingException("broker_buffer", "buffer size: " + bufferSize + " (expected: 1 to " + MAX_BUFFER_SIZE + " messages)");
    }
    if (pendingBytes < 1) {
      throw new InvalidSettingException("broker_pending_bytes", "pending bytes: " + pendingBytes + " (expected: at least 1)");
    }
    if (maxPendingBytes < pendingBytes) {
      throw new InvalidSettingException("broker_max_pending_bytes", "max pending bytes: " + maxPendingBytes + " (expected: at least the "
          + pendingBytes + " pending bytes of one subscriber)");
    }
    if (overflow == null) {
      throw new InvalidSettingException("broker_overflow", "overflow: missing (expected: drop_oldest or close)");
    }
  }

  /** The same buffers, delivering across the registry's sidecars, advertised at {@code advertiseAddress}. */
  public BrokerConfig withHttp(String advertiseAddress) {
    return new BrokerConfig(bufferSize, overflow, Kind.HTTP, advertiseAddress, pendingBytes, maxPendingBytes);
  }

  /** The same, with these limits on what is queued for WebSocket subscribers. */
  public BrokerConfig withPending(long pendingBytes, long maxPendingBytes) {
    return new BrokerConfig(bufferSize, overflow, kind, advertiseAddress, pendingBytes, maxPendingBytes);
  }

  /**
   * The host peers reach this sidecar at: {@link #advertiseAddress()}, else the listen host, else
   * {@value #DEFAULT_ADVERTISE_HOST} for a sidecar listening on every interface.
   */
  public String advertiseHost(HostPort listen) {
    if (!advertiseAddress.isEmpty()) {
      return advertiseAddress;
    }
    return listen.anyHost() ? DEFAULT_ADVERTISE_HOST : listen.host();
  }

  /** Whether messages stay in this process or reach every sidecar sharing the registry (contract §7.4). */
  public enum Kind {
    /** One sidecar: subscribers of this process only. */
    MEMORY,
    /** go-micro's http broker: subscriptions registered as {@code topic:<t>}, messages POSTed to {@code /_sub}. */
    HTTP;

    /** Parses {@code memory} or {@code http}, in any case. */
    public static Kind of(String text) {
      return switch (text == null ? "" : text.trim().toLowerCase(Locale.ROOT)) {
        case "memory" -> MEMORY;
        case "http" -> HTTP;
        default -> throw new InvalidSettingException("broker", "'" + text + "' (expected: memory or http)");
      };
    }
  }

  /** What a full subscriber buffer does with one more message. */
  public enum Overflow {
    /**
     * Drop the oldest buffered message to make room, and count it. The subscriber keeps going. A
     * WebSocket subscriber loses the oldest of what it has queued that is not yet in its socket's
     * outbound buffer.
     */
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
        default -> throw new InvalidSettingException("broker_overflow", "'" + text + "' (expected: drop_oldest or close)");
      };
    }
  }
}
