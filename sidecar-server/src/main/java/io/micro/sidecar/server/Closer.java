package io.micro.sidecar.server;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * What a sidecar started, pushed as it starts, and released in reverse: by a start that fails part-way
 * (so nothing started before the failure is left running) and by a normal stop, through the same list.
 * Each release is bounded by the time left, runs on its own thread (a registry that cannot reach etcd
 * must not hold the exit), and one that fails or overruns is logged and the rest go on.
 *
 * <p>Pushed from one thread (the one starting the sidecar); closed once.
 */
final class Closer {

  private static final Logger log = LoggerFactory.getLogger(Closer.class);
  /** The longest one release is waited for, whatever time is left. */
  private static final Duration EACH = Duration.ofSeconds(10);

  private record Entry(String what, Runnable release) {}

  private final Deque<Entry> started = new ArrayDeque<>();

  /** Registers {@code resource}, started just now, to be released by {@code release}; returns it. */
  <T> T push(String what, T resource, ReleaseOf<T> release) {
    started.push(new Entry(what, () -> release.release(resource)));
    return resource;
  }

  /** Releases everything pushed, last first, within {@code deadline} ({@link System#nanoTime()}). */
  void closeAll(long deadline) {
    for (Entry e; (e = started.poll()) != null; ) {
      long left = deadline - System.nanoTime();
      Duration atMost = Duration.ofNanos(Math.max(Duration.ofMillis(1).toNanos(), Math.min(left, EACH.toNanos())));
      Runnable release = e.release();
      try {
        Mono.fromRunnable(release).subscribeOn(Schedulers.boundedElastic()).block(atMost);
      } catch (RuntimeException failed) {
        log.warn("closing {} did not finish within the shutdown grace: {}", e.what(), failed.toString());
      }
    }
  }

  /** How one kind of resource is released. */
  @FunctionalInterface
  interface ReleaseOf<T> {
    void release(T resource);
  }
}
