package io.micro.sidecar.core.rpc;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.selector.Selector;
import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import reactor.core.publisher.Mono;

/**
 * Runs one call against the nodes of a service: resolves the service from the registry, picks a node
 * with the {@link Selector}, and tells the selector how the attempt went, uncounting it in
 * {@code doFinally} so that complete, error and cancel are all covered.
 *
 * <p>A failed attempt is retried on another node, up to {@code retries} times, only when the
 * request provably never reached the app: the connection was refused or never established. Anything
 * after that (a reset, a timeout, a bad answer) may have run on the app and is not retried. The
 * caller bounds the whole call, retries included, with its deadline.
 *
 * <p>Thread-safe; holds no per-call state.
 */
public final class Balancer {

  private final Registry registry;
  private final Selector selector;
  private final int retries;

  public Balancer(Registry registry, Selector selector, int retries) {
    this.registry = registry;
    this.selector = selector;
    this.retries = retries;
  }

  /** The selector choosing nodes, for its counters. */
  public Selector selector() {
    return selector;
  }

  /**
   * Calls {@code service} through {@code attempt}, which performs one try against the node it is
   * given. {@code failed} tells a completed attempt that still counts against the node (an HTTP 5xx
   * from the app, say).
   *
   * @throws RpcException (as an error signal) 404 when the service is unknown, 503 when it has no
   *     usable node or every node refused the connection
   */
  public <T> Mono<T> call(String service, Function<Node, Mono<T>> attempt, Predicate<T> failed) {
    return registry.lookup(service).flatMap(found -> {
      if (found.isEmpty()) {
        return Mono.error(new RpcException(MicroError.of(MicroError.CLIENT_ID, 404, "service not found")));
      }
      List<Node> nodes = new ArrayList<>();
      for (Service s : found) {
        if (s.nodes() != null) {
          nodes.addAll(s.nodes());
        }
      }
      return attempt(service, nodes, new HashSet<>(), 0, attempt, failed);
    });
  }

  private <T> Mono<T> attempt(String service, List<Node> nodes, Set<String> tried, int retry,
                              Function<Node, Mono<T>> attempt, Predicate<T> failed) {
    return Mono.defer(() -> {
      Selector.Lease lease = selector.select(nodes, tried).orElse(null);
      if (lease == null) {
        return Mono.error(new RpcException(MicroError.serviceUnavailable(
            tried.isEmpty() ? "service " + service + ": no node available" : "service " + service + ": no other node to retry on")));
      }
      tried.add(lease.node().id());
      return attempt.apply(lease.node())
          .doOnNext(result -> {
            if (failed.test(result)) {
              lease.failure();
            } else {
              lease.success();
            }
          })
          .doOnError(e -> {
            if (e instanceof RpcException) {
              lease.success(); // the app answered, with an error of its own
            } else {
              lease.failure();
            }
          })
          .doFinally(signal -> lease.release())
          .onErrorResume(e -> neverReached(e) && retry < retries && tried.size() < nodes.size(),
              e -> attempt(service, nodes, tried, retry + 1, attempt, failed));
    });
  }

  /** True for failures that happened before a byte of the request could reach the app. */
  public static boolean neverReached(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof ConnectTimeoutException) {
        return true;
      }
    }
    return false;
  }
}
