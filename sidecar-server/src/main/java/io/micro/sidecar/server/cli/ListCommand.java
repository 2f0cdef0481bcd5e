package io.micro.sidecar.server.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code micro list services}: {@code GET /registry}, the names sorted, one per line. */
@Command(name = "list", mixinStandardHelpOptions = true, usageHelpWidth = 120,
    description = "List what the registry holds, through the sidecar at --proxy_address.")
final class ListCommand implements Runnable {

  private final ProxyOption proxy;

  @Spec
  CommandSpec spec;

  ListCommand(ProxyOption proxy) {
    this.proxy = proxy;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "services", mixinStandardHelpOptions = true, usageHelpWidth = 120,
      description = {"Print the name of every registered service, sorted, one per line (GET /registry).",
          "A service with several versions is printed once. An empty registry prints nothing."},
      footer = {"", "Example:", "  micro --proxy_address=127.0.0.1:8081 list services", "  go.micro.srv.greeter"})
  int services() {
    String names = ServiceText.names(CliCodec.services(SidecarClient.ok(proxy.sidecar().get("/registry"))));
    if (!names.isEmpty()) {
      spec.commandLine().getOut().println(names);
    }
    return 0;
  }
}
