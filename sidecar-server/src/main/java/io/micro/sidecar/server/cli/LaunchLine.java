package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.config.SidecarConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a plain {@code micro [global flags] sidecar [flags]} line without building picocli's model,
 * which took a tenth of a sidecar's start (docs/benchmarks.md, "Start: the launch line read without
 * picocli"). It takes a line only where it reads it as picocli would: {@code --flag=value} and
 * {@code --flag value}, a boolean flag alone or followed by {@code true} or {@code false}, each flag
 * once, with the environment and the defaults of {@link GlobalFlags} and {@link SidecarFlags}. Anything
 * else (help, an unknown or repeated flag, a value that starts with {@code -} or {@code @}, a value it
 * cannot read, a configuration that is refused) it leaves to picocli, which reads the line again and
 * says what is wrong.
 */
final class LaunchLine {

  private LaunchLine() {}

  /**
   * The configuration {@code args} describe, the original's ignored flags already taken out
   * ({@link OriginalFlags}); empty when the line is one for picocli to read.
   */
  static Optional<SidecarConfig> read(String[] args, Map<String, String> env) {
    // a flag's text as given; null for a boolean flag given alone
    Map<Flag, String> global = new HashMap<>();
    Map<Flag, String> sidecar = new HashMap<>();
    int i = 0;
    while (i < args.length && !args[i].equals(SidecarFlags.COMMAND)) {
      i = take(args, i, GlobalFlags.ALL, global);
      if (i < 0) {
        return Optional.empty();
      }
    }
    if (i == args.length) {
      return Optional.empty();
    }
    for (i++; i < args.length; ) {
      i = take(args, i, SidecarFlags.ALL, sidecar);
      if (i < 0) {
        return Optional.empty();
      }
    }
    try {
      return Optional.of(SidecarFlags.config(values(GlobalFlags.COMMAND, GlobalFlags.ALL, global, env),
          values(SidecarFlags.COMMAND, SidecarFlags.ALL, sidecar, env)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Reads the flag at {@code args[i]} into {@code given}; returns the index after it, or -1 for picocli. */
  private static int take(String[] args, int i, List<Flag> flags, Map<Flag, String> given) {
    String arg = args[i];
    int eq = arg.indexOf('=');
    Flag flag = Flag.named(flags, eq < 0 ? arg : arg.substring(0, eq));
    if (flag == null || given.containsKey(flag)) {
      return -1;
    }
    // picocli refuses values that look like options ('--', '-h...'), attached or not; written apart, it
    // expands @files and refuses a command's name
    String value = eq >= 0 ? arg.substring(eq + 1) : i + 1 < args.length ? args[i + 1] : null;
    boolean optionLike = value != null && value.startsWith("-");
    if (eq >= 0) {
      if (optionLike) {
        return -1;
      }
      given.put(flag, value);
      return i + 1;
    }
    if (flag.kind() == Flag.Kind.BOOL) {
      boolean apart = "true".equalsIgnoreCase(value) || "false".equalsIgnoreCase(value);
      given.put(flag, apart ? value : null);
      return apart ? i + 2 : i + 1;
    }
    if (value == null || optionLike || value.startsWith("@") || MicroCli.COMMANDS.contains(value)) {
      return -1;
    }
    given.put(flag, value);
    return i + 2;
  }

  /** Each flag's value from the line, else from its environment variable, else its default. */
  private static FlagValues values(String command, List<Flag> flags, Map<Flag, String> given, Map<String, String> env) {
    FlagValues values = new FlagValues();
    for (Flag flag : flags) {
      boolean onTheLine = given.containsKey(flag);
      String text = given.get(flag);
      String fromEnv = Flag.environment(env, command, flag.name());
      if (onTheLine && text == null) {
        if (fromEnv != null) {
          // a boolean flag alone: picocli reads its environment value first, and refuses a bad one
          flag.convert(fromEnv);
        }
        text = "true";
      } else if (!onTheLine) {
        text = fromEnv != null ? fromEnv : flag.defaultValue();
      }
      values.put(flag, text == null ? null : flag.convert(text), onTheLine);
    }
    return values;
  }
}
