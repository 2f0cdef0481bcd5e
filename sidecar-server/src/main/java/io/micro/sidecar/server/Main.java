package io.micro.sidecar.server;

import io.micro.sidecar.server.cli.MicroCli;
import java.io.PrintWriter;

/** The {@code micro} command. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    // Netty's pooled allocator (thread caches, one arena per bin/micro's flags) rather than 4.2's default
    // adaptive one: 5-7 % less CPU per request at saturation for 4 MiB more RSS (docs/benchmarks.md,
    // "JVM flags"). Set before any Netty class reads it; -Dio.netty.allocator.type still decides.
    if (System.getProperty("io.netty.allocator.type") == null) {
      System.setProperty("io.netty.allocator.type", "pooled");
    }
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = MicroCli.run(args, System.getenv(), out, err, Sidecar::runUntilSignalled);
    out.flush();
    err.flush();
    // The sidecar's threads are daemons: returning ends the process with 0; anything else exits with its code.
    if (code != 0) {
      System.exit(code);
    }
  }
}
