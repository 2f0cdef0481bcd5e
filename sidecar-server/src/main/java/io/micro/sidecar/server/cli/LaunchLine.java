package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.config.SidecarConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a well-formed {@code micro [--flag=value ...] sidecar [flags]} line without building picocli's
 * model, which took a tenth of a sidecar's start (docs/benchmarks.md, "Start, measured again"). It takes
 * only what it reads exactly as picocli does: {@code --flag=value}, {@code --flag value}, a boolean flag
 * alone or followed by {@code true} or {@code false}, each flag once, with the environment and the
 * defaults of {@link GlobalFlags} and {@link SidecarFlags}. Anything else (help, an unknown or repeated
 * flag, a value it cannot read, a configuration that is refused) it leaves to picocli, which reads the
 * line again and says what is wrong.
 */
final class LaunchLine {

  private LaunchLine() {}

  /** The configuration of a sidecar {@code args} (with the original's ignored flags taken out) start, or empty for picocli to read. */
  static Optional<SidecarConfig> read(String[] args, Map<String, String> env) {
    Map<Flag, String> global = new HashMap<>();
    Map<Flag, String> sidecar = new HashMap<>();
    int i = 0;
    while (i < args.length && args[i].startsWith("--") && args[i].contains("=")) {
      i = take(args, i, GlobalFlags.ALL, global);
      if (i < 0) {
        return Optional.empty();
      }
    }
    if (i >= args.length || !args[i].equals(SidecarFlags.COMMAND)) {
      return Optional.empty();
    }
    for (i++; i < args.length; ) {
      i = take(args, i, SidecarFlags.ALL, sidecar);
      if (i < 0) {
        return Optional.empty();
      }
    }
    try {
      return Optional.of(SidecarFlags.config(values("micro", GlobalFlags.ALL, global, env),
          values(SidecarFlags.COMMAND, SidecarFlags.ALL, sidecar, env)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Reads the flag at {@code args[i]} into {@code given}; returns the index after it, or -1 for picocli. */
  private static int take(String[] args, int i, List<Flag> flags, Map<Flag, String> given) {
    String arg = args[i];
    int eq = arg.indexOf('=');
    Flag flag = find(flags, eq < 0 ? arg : arg.substring(0, eq));
    if (flag == null || given.containsKey(flag)) {
      return -1;
    }
    if (eq >= 0) {
      given.put(flag, arg.substring(eq + 1));
      return i + 1;
    }
    String next = i + 1 < args.length ? args[i + 1] : null;
    if (flag.kind() == Flag.Kind.BOOL) {
      boolean value = "true".equalsIgnoreCase(next) || "false".equalsIgnoreCase(next);
      given.put(flag, value ? next : "true");
      return value ? i + 2 : i + 1;
    }
    if (next == null || next.startsWith("-")) {
      return -1;
    }
    given.put(flag, next);
    return i + 2;
  }

  private static Flag find(List<Flag> flags, String name) {
    for (Flag flag : flags) {
      if (flag.name().equals(name)) {
        return flag;
      }
    }
    return null;
  }

  /** Each flag's value from the line, else its environment variable when not empty, else its default. */
  private static FlagValues values(String command, List<Flag> flags, Map<Flag, String> given, Map<String, String> env) {
    FlagValues values = new FlagValues();
    for (Flag flag : flags) {
      String text = given.get(flag);
      if (text == null) {
        String fromEnv = env.get(Flag.variable(command, flag.name()));
        text = fromEnv == null || fromEnv.isEmpty() ? flag.defaultValue() : fromEnv;
      }
      values.put(flag, text == null ? null : flag.convert(text), given.containsKey(flag));
    }
    return values;
  }
}
