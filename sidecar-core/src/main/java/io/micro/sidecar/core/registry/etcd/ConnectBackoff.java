package io.micro.sidecar.core.registry.etcd;

import io.etcd.jetcd.Client;
import io.grpc.ManagedChannel;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts short gRPC's wait before it tries to reach etcd again.
 *
 * <p>After a failed connection gRPC waits before the next attempt, 1.6 times longer each time, up to
 * two minutes, and in that wait every call fails at once. So once etcd has been away for a while, a
 * sidecar would hear of its return up to two minutes late; by then etcd, which restarts every lease's
 * clock when it comes back, has expired this sidecar's leases and other sidecars have seen its
 * registrations go. The registry calls {@link #reset()} each time it tries etcd again while it is
 * away (jetcd restarts its keep-alive stream every half second, the registry's own tries are at most
 * {@link EtcdCache#RECONNECT_BACKOFF_MAX} apart), which makes gRPC try at once, at most once every
 * {@link #SPACING}: no more often than jetcd's own tries, however many callers.
 *
 * <p>jetcd 0.8 does not expose its channel, so it is reached by reflection, once; should a jetcd
 * upgrade move it, this logs once and does nothing, and gRPC's own schedule applies
 * ({@code EtcdRegistryIT.afterALongOutageTheRestartedEtcdKeepsEveryRegistrationAndNoneDeletedMeanwhileComesBack} then fails).
 * Thread-safe: {@link ManagedChannel#resetConnectBackoff()} may be called from any thread.
 */
final class ConnectBackoff {

  private static final Logger log = LoggerFactory.getLogger(ConnectBackoff.class);

  static final Duration SPACING = Duration.ofMillis(500);

  private final ManagedChannel channel;
  /** When gRPC was last told, on the JVM's clock: about real connections, not the registry's time. */
  private final AtomicLong last = new AtomicLong(System.nanoTime() - SPACING.toNanos());

  private ConnectBackoff(ManagedChannel channel) {
    this.channel = channel;
  }

  static ConnectBackoff of(Client client) {
    try {
      Field field = client.getClass().getDeclaredField("connectionManager");
      field.setAccessible(true);
      Object connections = field.get(client);
      Method getChannel = connections.getClass().getDeclaredMethod("getChannel");
      getChannel.setAccessible(true);
      return new ConnectBackoff((ManagedChannel) getChannel.invoke(connections));
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("cannot reach jetcd's gRPC channel ({}); after a long etcd outage gRPC's own reconnection"
          + " schedule applies (up to 2 minutes)", e.toString());
      return new ConnectBackoff(null);
    }
  }

  /**
   * gRPC tries to connect now if it is waiting to; nothing if it is connected or connecting, or if it
   * was told to less than {@link #SPACING} ago. Any thread.
   */
  void reset() {
    long now = System.nanoTime();
    long before = last.get();
    if (channel != null && now - before >= SPACING.toNanos() && last.compareAndSet(before, now)) {
      channel.resetConnectBackoff();
    }
  }
}
