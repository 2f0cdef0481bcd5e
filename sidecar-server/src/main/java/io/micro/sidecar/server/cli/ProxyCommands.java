package io.micro.sidecar.server.cli;

import java.util.Set;
import picocli.CommandLine;

/** Wires the CLI commands that work through a sidecar (contract §9) and their global flag into {@code micro}. */
final class ProxyCommands {

  private ProxyCommands() {}

  /** The commands {@link #addTo} adds, by name. */
  static final Set<String> NAMES = Set.of("list", "get", "register", "deregister", "query", "health", "publish");

  /**
   * Adds the global flag and, unless {@code flagOnly}, the commands. A {@code micro sidecar} leaves the
   * commands out: picocli reads each command's annotations when it is added, about 50 ms of a start.
   */
  static CommandLine addTo(CommandLine micro, boolean flagOnly) {
    ProxyOption proxy = new ProxyOption(micro.getCommandSpec());
    micro.addMixin("proxy", proxy);
    if (flagOnly) {
      return micro;
    }
    return micro
        .addSubcommand(new ListCommand(proxy))
        .addSubcommand(new GetCommand(proxy))
        .addSubcommand(new RegisterCommand(proxy))
        .addSubcommand(new DeregisterCommand(proxy))
        .addSubcommand(new QueryCommand(proxy))
        .addSubcommand(new HealthCommand(proxy))
        .addSubcommand(new PublishCommand(proxy));
  }
}
