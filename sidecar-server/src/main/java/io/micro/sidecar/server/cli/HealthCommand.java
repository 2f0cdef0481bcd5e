package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code micro health <service>}: looks the service up, then calls {@code Debug.Health} on each node
 * through the sidecar's {@code /rpc} with {@code address} set, as go-micro's health command did.
 */
@Command(name = "health", mixinStandardHelpOptions = true, usageHelpWidth = 120,
    description = {"Check every node of a service through the sidecar at --proxy_address.",
        "GET /registry?service=<name>, then for each node",
        "POST /rpc {\"service\":<name>,\"method\":\"Debug.Health\",\"request\":\"{}\",\"address\":\"<host:port>\"}",
        "Prints, as the original micro did:"},
    footer = {"",
        "  service  <name>",
        "  ",
        "  version <version>                              (for each version; empty when unversioned)",
        "  ",
        "  node\t\taddress:port\t\tstatus",
        "  <id>\t\t<host>:<port>\t\t<status>                (for each node)",
        "",
        "<status> is the answer's \"status\" string (go-micro answers {\"status\":\"ok\"}), or 'ok' for any",
        "other 2xx answer; otherwise the error's detail. Exits 0 when every node is ok, 1 when any is not.",
        "An unknown service prints 'micro: service <name> not found' to stderr and exits 1."})
final class HealthCommand implements Callable<Integer> {

  static final String METHOD = "Debug.Health";

  private final ProxyOption proxy;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "<service>", description = "Service name, e.g. go.micro.srv.greeter")
  String service;

  HealthCommand(ProxyOption proxy) {
    this.proxy = proxy;
  }

  @Override
  public Integer call() {
    SidecarClient sidecar = proxy.sidecar();
    List<Service> versions = GetCommand.lookup(sidecar, service);
    PrintWriter out = spec.commandLine().getOut();
    boolean healthy = true;
    for (int i = 0; i < versions.size(); i++) {
      Service version = versions.get(i);
      ServiceText.healthHeader(version, i == 0).forEach(out::println);
      for (Node node : version.nodes() == null ? List.<Node>of() : version.nodes()) {
        SidecarClient.Answer a = sidecar.post("/rpc", "application/json",
            CliCodec.rpcRequest(version.name(), METHOD, "{}", ServiceText.address(node)));
        healthy &= a.ok();
        out.println(ServiceText.healthRow(node,
            a.ok() ? CliCodec.healthStatus(a.body()) : CliCodec.errorDetail(a.status(), a.body())));
      }
    }
    return healthy ? 0 : 1;
  }
}
