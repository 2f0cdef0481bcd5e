package io.micro.sidecar.core.registry.etcd;

import io.etcd.jetcd.Client;
import io.grpc.ManagedChannel;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
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
 * registrations go. The registry calls {@link #reset()} whenever a lease's keep-alive stream breaks
 * (jetcd restarts it every half second while etcd is away) and each time it tries etcd again itself,
 * which makes gRPC try at once, at most about once every {@link #SPACING} (give or take a fifth, so
 * that sidecars cut off together do not all knock at once): about a second after etcd is back, a
 * sidecar is connected, well within a lease's TTL, and while etcd is away each sidecar tries about
 * once a second, as gRPC itself does in the first seconds.
 *
 * <p>jetcd 0.8 does not expose its channel, so it is reached by reflection, once; should a jetcd
 * upgrade move it, this logs once and does nothing, and gRPC's own schedule applies
 * ({@code EtcdRegistryIT.afterALongOutageTheRestartedEtcdKeepsEveryRegistrationAndNoneDeletedMeanwhileComesBack}
 * then fails).
 * Thread-safe: {@link ManagedChannel#resetConnectBackoff()} may be called from any thread.
 */
final class ConnectBackoff {

  private static final Logger log = LoggerFactory.getLogger(ConnectBackoff.class);

  static final Duration SPACING = Duration.ofSeconds(1);

  private final ManagedChannel channel;
  /** When gRPC may be told next, on the JVM's clock: about real connections, not the registry's time. */
  private final AtomicLong next = new AtomicLong(System.nanoTime());

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
   * was told to less than about {@link #SPACING} ago. Any thread.
   */
  void reset() {
    long now = System.nanoTime();
    long due = next.get();
    long spacing = (long) (SPACING.toNanos() * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
    if (channel != null && now - due >= 0 && next.compareAndSet(due, now + spacing)) {
      channel.resetConnectBackoff();
    }
  }
}
