package io.micro.sidecar.server.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code micro deregister service '<json>'}: {@code DELETE /registry}, prints {@code ok}. */
@Command(name = "deregister", mixinStandardHelpOptions = true, usageHelpWidth = 120,
    description = "Deregister from the registry, through the sidecar at --proxy_address.")
final class DeregisterCommand implements Runnable {

  private final ProxyOption proxy;

  @Spec
  CommandSpec spec;

  DeregisterCommand(ProxyOption proxy) {
    this.proxy = proxy;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "service", mixinStandardHelpOptions = true, usageHelpWidth = 120,
      description = {"Deregister the nodes of a service named by id (DELETE /registry) and print 'ok'.",
          "The JSON is the Service as registered: {\"name\":..,\"nodes\":[{\"id\":..}]}; keys may be in any case."},
      footer = {"", "JSON that does not read as a Service exits 2 before anything is sent; an error from the",
          "sidecar prints 'micro: <status> <reason>' to stderr and exits 1. Unknown nodes are ignored.",
          "", "Example:",
          "  micro deregister service '{\"name\":\"foo.bar\",\"nodes\":[{\"id\":\"foo.bar-1\"}]}'"})
  int service(@Parameters(paramLabel = "<json>", arity = "1..*", description = "The Service as JSON") List<String> json) {
    return RegisterCommand.send(spec, proxy, "service", String.join(" ", json), false);
  }
}
