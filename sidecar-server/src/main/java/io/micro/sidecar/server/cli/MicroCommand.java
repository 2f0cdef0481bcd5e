package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.config.SidecarConfig;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * picocli's model of {@code micro} and {@code micro sidecar}, built from {@link GlobalFlags} and
 * {@link SidecarFlags} rather than from annotations (reading those took a tenth of a start): it prints
 * {@code --help}, names what is wrong with a line, and carries the CLI commands.
 */
final class MicroCommand {

  private MicroCommand() {}

  /**
   * {@code micro} with its {@code sidecar} command, which runs {@code runner} with the configuration
   * the flags describe. The CLI commands are added by {@link ProxyCommands}.
   */
  static CommandLine create(ToIntFunction<SidecarConfig> runner) {
    CommandLine[] self = new CommandLine[2];
    CommandSpec micro = spec(GlobalFlags.COMMAND, GlobalFlags.ALL, (Runnable) () -> self[0].usage(self[0].getOut()),
        "A sidecar that gives any app registration, discovery, RPC and pub/sub over plain HTTP.");
    micro.version("micro sidecar 0.1.0").usageMessage().footer("",
        "Every flag also reads an environment variable when absent: global flags MICRO_<FLAG>,",
        "sidecar flags MICRO_SIDECAR_<FLAG> (e.g. MICRO_REGISTRY=etcd, MICRO_SIDECAR_ADDRESS=:8081).");
    Callable<Integer> run = () -> {
      SidecarConfig config;
      try {
        config = SidecarFlags.config(values(self[0], GlobalFlags.ALL), values(self[1], SidecarFlags.ALL));
      } catch (InvalidFlagException e) {
        throw new ParameterException(e.global() ? self[0] : self[1], e.getMessage());
      }
      return runner.applyAsInt(config);
    };
    CommandSpec sidecar = spec(SidecarFlags.COMMAND, SidecarFlags.ALL, run, "Run the sidecar beside an app.");
    sidecar.usageMessage().footer("", "Sidecar flags read MICRO_SIDECAR_<FLAG> when absent (e.g. MICRO_SIDECAR_SERVER_NAME).");
    self[0] = new CommandLine(micro);
    self[1] = new CommandLine(sidecar);
    return self[0].addSubcommand(self[1]);
  }

  private static CommandSpec spec(String name, List<Flag> flags, Object command, String description) {
    CommandSpec spec = CommandSpec.wrapWithoutInspection(command).name(name);
    spec.usageMessage().width(120).sortOptions(false).description(description);
    for (Flag flag : flags) {
      OptionSpec.Builder option = OptionSpec.builder(flag.name()).paramLabel(flag.label()).type(flag.type())
          .description(flag.description()).defaultValue(flag.defaultValue())
          .converters(text -> {
            try {
              return flag.convert(text);
            } catch (IllegalArgumentException e) {
              throw new TypeConversionException(e.getMessage());
            }
          });
      if (flag.kind() == Flag.Kind.BOOL) {
        option.arity("0..1").fallbackValue("true");
      }
      spec.addOption(option.build());
    }
    // after the flags, as the annotations had them: --help lists -h and -V last
    return spec.mixinStandardHelpOptions(true);
  }

  private static FlagValues values(CommandLine command, List<Flag> flags) {
    FlagValues values = new FlagValues();
    CommandLine.ParseResult parsed = command.getParseResult();
    for (Flag flag : flags) {
      OptionSpec option = command.getCommandSpec().findOption(flag.name());
      values.put(flag, option.getValue(), parsed != null && parsed.hasMatchedOption(option));
    }
    return values;
  }
}
