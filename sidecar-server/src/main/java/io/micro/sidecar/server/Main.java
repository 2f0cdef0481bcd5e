package io.micro.sidecar.server;

import io.micro.sidecar.server.cli.MicroCli;
import java.io.PrintWriter;

/** The {@code micro} command. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
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
