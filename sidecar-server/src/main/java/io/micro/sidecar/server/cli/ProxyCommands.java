package io.micro.sidecar.server.cli;

import picocli.CommandLine;

/** Wires the CLI commands that work through a sidecar (contract §9) and their global flag into {@code micro}. */
final class ProxyCommands {

  private ProxyCommands() {}

  static CommandLine addTo(CommandLine micro) {
    ProxyOption proxy = new ProxyOption(micro.getCommandSpec());
    return micro.addMixin("proxy", proxy)
        .addSubcommand(new ListCommand(proxy))
        .addSubcommand(new GetCommand(proxy))
        .addSubcommand(new RegisterCommand(proxy))
        .addSubcommand(new DeregisterCommand(proxy))
        .addSubcommand(new QueryCommand(proxy))
        .addSubcommand(new HealthCommand(proxy))
        .addSubcommand(new PublishCommand(proxy));
  }
}
