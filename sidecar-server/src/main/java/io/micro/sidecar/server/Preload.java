package io.micro.sidecar.server;

import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Runs, on the second core, the slowest static initialisers of a sidecar's start while the main thread
 * reads the command line and builds the configuration (and, while the JVM is cold, runs beside the JIT's
 * threads): the main thread would otherwise run them one after the other once the flags are read. The command line
 * uses none of these libraries, and the main thread waits for this thread before it starts the
 * sidecar, so none of them is initialised from both threads at once. docs/benchmarks.md, "Start", has
 * what it saves.
 */
final class Preload {

  /**
   * Each one's initialiser, measured on the main thread of a profiled start: Netty's io_uring and epoll
   * transports, each of which extracts and loads its native library (Reactor Netty asks for both); Caffeine, whose logger starts java.util.logging;
   * Micrometer's Prometheus registry; Reactor's schedulers, Netty's pooled allocator and Reactor Netty's
   * HTTP server; and the registry's Jackson mapper, which the first {@code /registry} answer would
   * otherwise build. Before them, slf4j-simple with its date format (and the JDK's locale data behind it).
   */
  static final List<String> CLASSES = List.of(
      "io.netty.channel.uring.IoUring",
      "io.netty.channel.epoll.Epoll",
      "com.github.benmanes.caffeine.cache.Caffeine",
      "io.micrometer.prometheusmetrics.PrometheusMeterRegistry",
      "reactor.core.scheduler.Schedulers",
      "io.netty.buffer.PooledByteBufAllocator",
      "reactor.netty.http.server.HttpServer",
      "io.micro.sidecar.core.registry.ServiceCodec");

  private final List<String> classes;
  private final Thread thread = new Thread(this::run, "preload");
  /** The first initialiser that failed: the start reports it rather than the bare NoClassDefFoundError that follows. */
  private volatile Throwable failure;

  private Preload(List<String> classes) {
    this.classes = classes;
  }

  /** Starts preloading {@link #CLASSES}. */
  static Preload start() {
    return start(CLASSES);
  }

  static Preload start(List<String> classes) {
    Preload p = new Preload(classes);
    p.thread.setDaemon(true);
    p.thread.start();
    return p;
  }

  /**
   * Waits for the preloading to end, also on the way out (a bad flag, {@code --help}): Netty's native
   * library is extracted to a temporary file that is only marked for deletion once it is loaded.
   *
   * @throws IllegalStateException what an initialiser threw, when one did
   */
  void await() {
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable f = failure;
    if (f != null) {
      failure = null;
      throw new IllegalStateException(f.getClass().getSimpleName() + ": " + f.getMessage(), f);
    }
  }

  private void run() {
    try {
      LoggerFactory.getLogger(Sidecar.class);
    } catch (Throwable e) {
      failed(e);
    }
    ClassLoader loader = Preload.class.getClassLoader();
    for (String name : classes) {
      try {
        Class.forName(name, true, loader);
      } catch (ClassNotFoundException e) {
        // a library without it: the start does not need it either (PreloadTest keeps the list current)
      } catch (Throwable e) {
        failed(e);
      }
    }
  }

  private void failed(Throwable e) {
    if (failure == null) {
      failure = e instanceof ExceptionInInitializerError init && init.getCause() != null ? init.getCause() : e;
    }
  }
}
