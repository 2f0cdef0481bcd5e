package io.micro.sidecar.server;

import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Runs, on the second core, the slowest static initialisers of a sidecar's start while the main thread
 * is still building and parsing the command line (picocli's reflection, a quarter of the start): the
 * main thread would otherwise run them one after the other once the flags are read. It joins this
 * thread before it starts the sidecar, so no class is initialised from both threads at once.
 * docs/benchmarks.md, "Start", has what each saves.
 */
final class Preload {

  /**
   * Each one's initialiser, measured on the main thread of a profiled start: slf4j-simple with its date
   * format (and the JDK's locale data behind it); Netty's epoll transport, which extracts and loads its
   * native library; Caffeine, whose logger starts java.util.logging; Micrometer's Prometheus registry;
   * Reactor's schedulers, Netty's pooled allocator and Reactor Netty's HTTP server; and the registry's
   * Jackson mapper, which the first {@code /registry} answer would otherwise build.
   */
  static final List<String> CLASSES = List.of(
      "io.netty.channel.epoll.Epoll",
      "com.github.benmanes.caffeine.cache.Caffeine",
      "io.micrometer.prometheusmetrics.PrometheusMeterRegistry",
      "reactor.core.scheduler.Schedulers",
      "io.netty.buffer.PooledByteBufAllocator",
      "reactor.netty.http.server.HttpServer",
      "io.micro.sidecar.core.registry.ServiceCodec");

  private Preload() {}

  /** Starts preloading; join the thread before starting the sidecar. */
  static Thread start() {
    Thread t = new Thread(Preload::run, "preload");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void run() {
    LoggerFactory.getLogger(Sidecar.class);
    ClassLoader loader = Preload.class.getClassLoader();
    for (String name : CLASSES) {
      try {
        Class.forName(name, true, loader);
      } catch (ClassNotFoundException e) {
        // a library without it: the start does not need it either (PreloadTest keeps the list current)
      }
    }
  }
}
