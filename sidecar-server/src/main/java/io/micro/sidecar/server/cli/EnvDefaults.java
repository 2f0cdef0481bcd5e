package io.micro.sidecar.server.cli;

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

  @Override
  public String defaultValue(CommandLine.Model.ArgSpec arg) {
    if (!(arg instanceof CommandLine.Model.OptionSpec option) || option.usageHelp() || option.versionHelp()) {
      return null;
    }
    return Flag.environment(env, arg.command().name(), option.longestName());
  }
}
