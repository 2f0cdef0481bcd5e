package io.micro.sidecar.server.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code micro register service '<json>'}: {@code POST /registry}, prints {@code ok}. */
@Command(name = "register", mixinStandardHelpOptions = true, usageHelpWidth = 120,
    description = "Register in the registry, through the sidecar at --proxy_address.")
final class RegisterCommand implements Runnable {

  private final ProxyOption proxy;

  @Spec
  CommandSpec spec;

  RegisterCommand(ProxyOption proxy) {
    this.proxy = proxy;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "service", mixinStandardHelpOptions = true, usageHelpWidth = 120,
      description = {"Register every node of a service (POST /registry) and print 'ok'.",
          "The JSON is a Service: {\"name\":..,\"version\":..,\"nodes\":[{\"id\":..,\"address\":..,\"port\":..}]};",
          "keys may be in any case. Arguments are joined by spaces, so the JSON may also come unquoted in parts."},
      footer = {"", "JSON that does not read as a Service exits 2 before anything is sent; an error from the",
          "sidecar (e.g. a service without nodes) prints 'micro: <status> <reason>' to stderr and exits 1.",
          "", "Example:",
          "  micro register service '{\"name\":\"foo.bar\",\"nodes\":[{\"id\":\"foo.bar-1\",\"address\":\"127.0.0.1\",\"port\":9091}]}'"})
  int service(@Parameters(paramLabel = "<json>", arity = "1..*", description = "The Service as JSON") List<String> json) {
    return send(spec, proxy, "service", String.join(" ", json), true);
  }

  /** Checks the JSON, then POSTs (register) or DELETEs (deregister) it as the user wrote it. */
  static int send(CommandSpec group, ProxyOption proxy, String sub, String json, boolean register) {
    String problem = CliCodec.serviceProblem(json);
    if (problem != null) {
      throw new ParameterException(group.subcommands().get(sub), "not a service: " + problem);
    }
    SidecarClient sidecar = proxy.sidecar();
    SidecarClient.ok(register ? sidecar.post("/registry", "application/json", json)
        : sidecar.delete("/registry", "application/json", json));
    group.commandLine().getOut().println("ok");
    return 0;
  }
}
