package io.micro.sidecar.core.client;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.NodeSet;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.rpc.MicroError;
import io.micro.sidecar.core.rpc.RpcException;
import io.micro.sidecar.core.selector.Selector;
import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;

/**
 * Runs one call against the nodes of a service: resolves the service from the registry, picks a node
 * with the {@link Selector}, and tells the selector how the attempt went, uncounting it however the
 * attempt ends: answered, failed or cancelled.
 *
 * <p>A failed attempt is retried on another node, up to {@code retries} times, only when the
 * request provably never reached the app: the connection was refused or never established. Anything
 * after that (a reset, a timeout, a bad answer) may have run on the app and is not retried. The
 * caller bounds the whole call, retries included, with its deadline.
 *
 * <p>Calls are taken with callbacks ({@link #call(String, BiFunction, Predicate, Callback)}), so the
 * direct path builds no Reactor chain per call; {@link #call(String, Function, Predicate)} wraps the same
 * logic for routes that want a {@code Mono}. Thread-safe; holds no per-call state.
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
   * Calls {@code service} through {@code attempt}, which starts one try against the node it is given
   * and reports to the callback it is given. {@code failed} tells a completed attempt that still counts
   * against the node (an HTTP 5xx from the app, say). {@code done} hears the outcome once, on the
   * thread the last attempt reported on.
   *
   * @return disposing of it drops the call and the attempt under way
   */
  public <T> Disposable call(String service, BiFunction<Node, Callback<T>, Disposable> attempt, Predicate<T> failed,
                             Callback<T> done) {
    NodeSet nodes = registry.nodes(service);
    if (nodes.isEmpty()) {
      done.failed(new RpcException(MicroError.of(MicroError.CLIENT_ID, 404, "service not found")));
      return Disposables.disposed();
    }
    Call<T> call = new Call<>(service, nodes, attempt, failed, done);
    call.next();
    return call;
  }

  /** {@link #call(String, BiFunction, Predicate, Callback)} for attempts made as a {@code Mono}; empty when the attempt is. */
  public <T> Mono<T> call(String service, Function<Node, Mono<T>> attempt, Predicate<T> failed) {
    return Mono.create(sink -> sink.onDispose(call(service, (node, callback) -> attempt.apply(node)
        .subscribe(callback::succeeded, callback::failed, () -> callback.succeeded(null)), failed, Callback.of(sink))));
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

  /** One call: its attempts, one at a time, each on a node not tried before. */
  private final class Call<T> implements Callback<T>, Disposable {
    private final String service;
    private final NodeSet nodes;
    private final BiFunction<Node, Callback<T>, Disposable> attempt;
    private final Predicate<T> failed;
    private final Callback<T> done;
    /** Nodes tried; made at the first retry (most calls have none). */
    private Set<String> tried;
    private int retry;
    private Selector.Lease lease;
    private Disposable current;
    private volatile boolean over;

    Call(String service, NodeSet nodes, BiFunction<Node, Callback<T>, Disposable> attempt, Predicate<T> failed,
         Callback<T> done) {
      this.service = service;
      this.nodes = nodes;
      this.attempt = attempt;
      this.failed = failed;
      this.done = done;
    }

    void next() {
      Selector.Lease l = selector.selectNow(nodes, tried);
      if (l == null) {
        over = true;
        done.failed(new RpcException(MicroError.serviceUnavailable(tried == null
            ? "service " + service + ": no node available" : "service " + service + ": no other node to retry on")));
        return;
      }
      synchronized (this) {
        if (over) {
          l.release(); // disposed of between attempts
          return;
        }
        lease = l;
      }
      Disposable d = attempt.apply(l.node(), this);
      synchronized (this) {
        if (lease == l) {
          current = d;
          return;
        }
      }
      if (over) {
        d.dispose(); // disposed of while the attempt started (or it has already ended: a no-op)
      }
    }

    @Override
    public void succeeded(T value) {
      Selector.Lease l = end();
      if (l == null) {
        return;
      }
      if (value != null && failed.test(value)) {
        l.failure();
      } else {
        l.success();
      }
      over = true;
      done.succeeded(value);
    }

    @Override
    public void failed(Throwable error) {
      Selector.Lease l = end();
      if (l == null) {
        return;
      }
      if (error instanceof RpcException) {
        l.success(); // the app answered, with an error of its own
      } else {
        l.failure();
      }
      int size = tried == null ? 1 : tried.size() + 1;
      if (neverReached(error) && retry < retries && size < nodes.size()) {
        if (tried == null) {
          tried = new HashSet<>();
        }
        tried.add(l.node().id());
        retry++;
        next();
        return;
      }
      over = true;
      done.failed(error);
    }

    /** The lease of the attempt that just ended, taken so that nothing else ends it; null when cancelled. */
    private synchronized Selector.Lease end() {
      Selector.Lease l = lease;
      lease = null;
      current = null;
      return over ? null : l;
    }

    @Override
    public void dispose() {
      Selector.Lease l;
      Disposable d;
      synchronized (this) {
        if (over) {
          return;
        }
        over = true;
        l = lease;
        d = current;
        lease = null;
        current = null;
      }
      if (d != null) {
        d.dispose();
      }
      if (l != null) {
        l.release();
      }
    }

    @Override
    public synchronized boolean isDisposed() {
      return over;
    }
  }
}
