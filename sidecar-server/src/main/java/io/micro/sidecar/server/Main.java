package io.micro.sidecar.server;

import io.micro.sidecar.server.cli.MicroCli;
import java.io.PrintWriter;

/** The {@code micro} command. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    // Netty's pooled allocator (thread caches, one arena per bin/micro's flags) rather than 4.2's default
    // adaptive one: 5-7 % less CPU per request at saturation for 4 MiB more RSS; and without its JFR
    // events, whose first chunk starts JFR's type registry (4.6 % of a start's CPU in a profile). See
    // docs/benchmarks.md, "JVM flags". Set before any Netty class reads them; -D flags still decide.
    defaultProperty("io.netty.allocator.type", "pooled");
    defaultProperty("io.netty.jfr.enabled", "false");
    Preload preload = MicroCli.startsSidecar(args) ? Preload.start() : null;
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = MicroCli.run(args, System.getenv(), out, err, config -> {
      if (preload != null) {
        preload.await();
      }
      return Sidecar.runUntilSignalled(config);
    });
    if (preload != null) {
      try {
        // also on the way out (a bad flag, --help): see Preload.await
        preload.await();
      } catch (IllegalStateException e) {
        // reported by the start already, or of no matter to a command line that ended on its own
      }
    }
    out.flush();
    err.flush();
    // The sidecar's threads are daemons: returning ends the process with 0; anything else exits with its code.
    if (code != 0) {
      System.exit(code);
    }
  }

  private static void defaultProperty(String name, String value) {
    if (System.getProperty(name) == null) {
      System.setProperty(name, value);
    }
  }
}
