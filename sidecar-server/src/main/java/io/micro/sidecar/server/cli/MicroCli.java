package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.config.SidecarConfig;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * Parses {@code micro [global flags] <command> [flags]} and runs the command. Flags read environment
 * variables from {@code env} where absent; a bad flag prints one line naming it and returns 2.
 */
public final class MicroCli {

  /** Every command's name. */
  static final Set<String> COMMANDS = Stream.concat(Stream.of(SidecarFlags.COMMAND), ProxyCommands.NAMES.stream())
      .collect(Collectors.toUnmodifiableSet());

  private MicroCli() {}

  /**
   * @param sidecar runs a sidecar with the parsed configuration and returns its exit code
   * @return the process exit code
   */
  public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err,
                        ToIntFunction<SidecarConfig> sidecar) {
    OriginalFlags.Scan scan;
    try {
      scan = OriginalFlags.scan(args, COMMANDS);
    } catch (IllegalArgumentException e) {
      err.println("micro: " + e.getMessage());
      return 2;
    }
    if (!scan.ignored().isEmpty()) {
      err.println("micro: ignoring flags of the original micro that mean nothing here: " + String.join(", ", scan.ignored()));
    }
    boolean sidecarOnly = startsSidecar(args);
    if (sidecarOnly) {
      Optional<SidecarConfig> config = LaunchLine.read(scan.args(), env);
      if (config.isPresent()) {
        try {
          return sidecar.applyAsInt(config.get());
        } catch (RuntimeException e) {
          return failed(err, e);
        }
      }
    }
    return picocli(scan.args(), env, out, err, sidecar, sidecarOnly);
  }

  /** Reads {@code args} with picocli's model of every command (of {@code micro sidecar} alone when {@code sidecarOnly}) and runs the command. */
  static int picocli(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err,
                     ToIntFunction<SidecarConfig> sidecar, boolean sidecarOnly) {
    CommandLine cli = ProxyCommands.addTo(MicroCommand.create(sidecar), sidecarOnly)
        .setDefaultValueProvider(new EnvDefaults(env))
        .setOut(out)
        .setErr(err)
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler((e, a) -> {
          err.println("micro: " + e.getMessage() + hint(e));
          return 2;
        })
        .setExecutionExceptionHandler((e, cmd, parsed) -> failed(err, e));
    return cli.execute(args);
  }

  /** A command that failed (a sidecar that could not start: a port in use) says so in one line and exits 1. */
  private static int failed(PrintWriter err, Exception e) {
    err.println("micro: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
    return 1;
  }

  /**
   * {@code micro [--flag=value ...] sidecar ...}: the command is certainly {@code sidecar}. A global flag
   * written with its value apart ({@code --registry etcd sidecar}) is not looked into: that line gets the
   * whole command set, as does everything else.
   */
  public static boolean startsSidecar(String[] args) {
    for (String arg : args) {
      if (!(arg.startsWith("-") && arg.contains("="))) {
        return arg.equals(SidecarFlags.COMMAND);
      }
    }
    return false;
  }

  private static String hint(CommandLine.ParameterException e) {
    if (e instanceof CommandLine.UnmatchedArgumentException && e.getCommandLine().getCommandName().equals(SidecarFlags.COMMAND)) {
      return " (global flags such as --registry go before 'sidecar'; see 'micro --help')";
    }
    if (e instanceof CommandLine.UnmatchedArgumentException u && e.getCommandLine().getParent() != null) {
      CommandLine top = e.getCommandLine();
      while (top.getParent().getParent() != null) {
        top = top.getParent();
      }
      for (String arg : u.getUnmatched()) {
        if (top.getParent().getCommandSpec().findOption(arg.split("=", 2)[0]) != null) {
          return " (global flags such as " + arg.split("=", 2)[0] + " go before '" + top.getCommandName()
              + "'; see 'micro --help')";
        }
      }
    }
    return " (see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')";
  }
}
