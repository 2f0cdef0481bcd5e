package io.micro.sidecar.server.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * Reads a flag's value from the environment when the flag is absent (contract §1): global flags from
 * {@code MICRO_<FLAG>}, sidecar flags from {@code MICRO_SIDECAR_<FLAG>}. Returning null lets the
 * flag's own default apply.
 */
final class EnvDefaults implements CommandLine.IDefaultValueProvider {

  private final Map<String, String> env;

  EnvDefaults(Map<String, String> env) {
    this.env = env;
  }

  /** The environment variable that stands in for {@code option} of {@code command}. */
  static String variable(String command, String option) {
    String flag = option.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    return command.equals("micro") ? "MICRO_" + flag : "MICRO_" + command.toUpperCase(Locale.ROOT) + "_" + flag;
  }

  @Override
  public String defaultValue(CommandLine.Model.ArgSpec arg) {
    if (!(arg instanceof CommandLine.Model.OptionSpec option) || option.usageHelp() || option.versionHelp()) {
      return null;
    }
    String value = env.get(variable(arg.command().name(), option.longestName()));
    return value == null || value.isEmpty() ? null : value;
  }
}
