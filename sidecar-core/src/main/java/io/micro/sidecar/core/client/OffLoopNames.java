package io.micro.sidecar.core.client;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import reactor.core.scheduler.Schedulers;

/**
 * Looks up app nodes registered by name the way the JDK does ({@code /etc/hosts}, the system's
 * resolver, the JDK's cache), on threads made for blocking rather than on the event loop: a slow DNS
 * answer delays only the connection waiting for it, never the other calls of its loop. Nodes registered
 * by IP address are never looked up ({@link LoopClient} connects to them directly). A lookup that has
 * not answered within the time allowed fails, so that a hanging DNS server makes the node one never
 * reached, which the balancer may retry elsewhere, rather than a call that times out.
 */
final class OffLoopNames extends AddressResolverGroup<InetSocketAddress> {

  /** A blocking lookup: every address of a name, or {@link UnknownHostException}. */
  @FunctionalInterface
  interface Lookup {
    InetAddress[] all(String host) throws UnknownHostException;
  }

  private final Lookup lookup;
  private final Executor blocking;
  private final long timeoutNanos;

  /** @param timeout how long a lookup may take, after which the connection waiting for it fails; zero: no limit */
  OffLoopNames(Lookup lookup, Executor blocking, Duration timeout) {
    this.lookup = lookup;
    this.blocking = blocking;
    this.timeoutNanos = timeout.toNanos();
  }

  /** The JDK's lookup on Reactor's threads for blocking work. */
  static OffLoopNames jdk(Duration timeout) {
    return new OffLoopNames(InetAddress::getAllByName, task -> Schedulers.boundedElastic().schedule(task), timeout);
  }

  @Override
  protected AddressResolver<InetSocketAddress> newResolver(EventExecutor loop) {
    return new InetNameResolver(loop) {
      @Override
      protected void doResolve(String host, Promise<InetAddress> promise) {
        lookUp(executor(), host, promise, all -> all[0]);
      }

      @Override
      protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
        lookUp(executor(), host, promise, Arrays::asList);
      }
    }.asAddressResolver();
  }

  /**
   * Completes {@code promise} from a blocking thread, or fails it on its loop once the time allowed is
   * up (the lookup itself cannot be interrupted; its late answer is dropped). Listeners run on the loop.
   */
  private <T> void lookUp(EventExecutor loop, String host, Promise<T> promise, Function<InetAddress[], T> answer) {
    ScheduledFuture<?> timeout = timeoutNanos <= 0 ? null : loop.schedule(() -> promise.tryFailure(
        new UnknownHostException(host + ": no answer from the name lookup within "
            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms")), timeoutNanos, TimeUnit.NANOSECONDS);
    blocking.execute(() -> {
      try {
        promise.trySuccess(answer.apply(lookup.all(host)));
      } catch (Throwable e) {
        promise.tryFailure(e);
      } finally {
        if (timeout != null) {
          timeout.cancel(false);
        }
      }
    });
  }
}
