package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.registry.Service;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code micro get service <name>}: {@code GET /registry?service=}, printed as the original micro did. */
@Command(name = "get", mixinStandardHelpOptions = true, usageHelpWidth = 120,
    description = "Describe a registry entry, through the sidecar at --proxy_address.")
final class GetCommand implements Runnable {

  private final ProxyOption proxy;

  @Spec
  CommandSpec spec;

  GetCommand(ProxyOption proxy) {
    this.proxy = proxy;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "service", mixinStandardHelpOptions = true, usageHelpWidth = 120,
      description = {"Print a service's versions, nodes and endpoints (GET /registry?service=<name>),",
          "in the original micro's format (tabs between columns, metadata as k=v,k=v sorted by key):"},
      footer = {"",
          "  service  <name>",
          "  ",
          "  version <version>                              (for each version; empty when unversioned)",
          "  ",
          "  Id\tAddress\tPort\tMetadata",
          "  <id>\t<address>\t<port>\t<k=v,k=v>                 (for each node)",
          "  ",
          "  Endpoint: <name>                               (for each endpoint of the first version)",
          "  Metadata: <k=v,k=v>",
          "  ",
          "  Request: {                                     ({} when it has no fields)",
          "  \t<field_name> <type>                          (nested fields indented by a tab)",
          "  }",
          "  ",
          "  Response: {}",
          "",
          "An unknown service prints 'micro: service <name> not found' to stderr and exits 1."})
  int service(@Parameters(paramLabel = "<name>", description = "Service name, e.g. go.micro.srv.greeter") String name) {
    spec.commandLine().getOut().println(ServiceText.describe(lookup(proxy.sidecar(), name)));
    return 0;
  }

  /** Every version of {@code name}. @throws SidecarClient.Failure {@code service <name> not found} on 404 or none */
  static List<Service> lookup(SidecarClient sidecar, String name) {
    SidecarClient.Answer a = sidecar.get("/registry?service=" + SidecarClient.query(name));
    if (a.status() == 404) {
      throw new SidecarClient.Failure("service " + name + " not found");
    }
    List<Service> versions = CliCodec.services(SidecarClient.ok(a));
    if (versions.isEmpty()) {
      throw new SidecarClient.Failure("service " + name + " not found");
    }
    return versions;
  }
}
