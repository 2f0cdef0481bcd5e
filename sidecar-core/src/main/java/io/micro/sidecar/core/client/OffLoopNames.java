package io.micro.sidecar.core.client;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Function;
import reactor.core.scheduler.Schedulers;

/**
 * Looks up app nodes registered by name the way the JDK does ({@code /etc/hosts}, the system's
 * resolver, the JDK's cache), on threads made for blocking rather than on the event loop: a slow DNS
 * answer delays only the connection waiting for it, never the other calls of its loop. Nodes registered
 * by IP address are never looked up ({@link LoopClient} connects to them directly).
 */
final class OffLoopNames extends AddressResolverGroup<InetSocketAddress> {

  /** A blocking lookup: every address of a name, or {@link UnknownHostException}. */
  @FunctionalInterface
  interface Lookup {
    InetAddress[] all(String host) throws UnknownHostException;
  }

  /** The JDK's lookup on Reactor's threads for blocking work. */
  static final OffLoopNames JDK = new OffLoopNames(InetAddress::getAllByName,
      task -> Schedulers.boundedElastic().schedule(task));

  private final Lookup lookup;
  private final Executor blocking;

  OffLoopNames(Lookup lookup, Executor blocking) {
    this.lookup = lookup;
    this.blocking = blocking;
  }

  @Override
  protected AddressResolver<InetSocketAddress> newResolver(EventExecutor loop) {
    return new InetNameResolver(loop) {
      @Override
      protected void doResolve(String host, Promise<InetAddress> promise) {
        lookUp(host, promise, all -> all[0]);
      }

      @Override
      protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
        lookUp(host, promise, Arrays::asList);
      }
    }.asAddressResolver();
  }

  /** Completes {@code promise} from a blocking thread; its listeners run on the loop it belongs to. */
  private <T> void lookUp(String host, Promise<T> promise, Function<InetAddress[], T> answer) {
    blocking.execute(() -> {
      try {
        promise.trySuccess(answer.apply(lookup.all(host)));
      } catch (UnknownHostException | RuntimeException e) {
        promise.tryFailure(e);
      }
    });
  }
}
