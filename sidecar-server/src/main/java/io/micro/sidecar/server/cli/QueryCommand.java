package io.micro.sidecar.server.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code micro query <service> <method> [json]}: {@code POST /rpc}, the answer pretty-printed with tabs. */
@Command(name = "query", mixinStandardHelpOptions = true, usageHelpWidth = 120,
    description = {"Call a method of a service through the sidecar at --proxy_address.",
        "POST /rpc, then print the answer as JSON indented by tabs, one member per line, as Go's json.Indent does.",
        "The request defaults to {}; its arguments are joined by spaces."},
    footer = {"", "Request JSON that does not parse exits 2 before anything is sent. An error from the sidecar",
        "prints 'micro: <status> <micro error JSON>' to stderr and exits 1.",
        "", "Example:",
        "  micro query go.micro.srv.greeter Say.Hello '{\"name\": \"John\"}'",
        "  {", "  \t\"msg\": \"Hello John\"", "  }"})
final class QueryCommand implements Callable<Integer> {

  private final ProxyOption proxy;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<service>", description = "Service name, e.g. go.micro.srv.greeter")
  String service;

  @Parameters(index = "1", paramLabel = "<method>", description = "Method, e.g. Say.Hello")
  String method;

  @Parameters(index = "2..*", paramLabel = "<json>", description = "The request as JSON (default {})")
  List<String> request;

  QueryCommand(ProxyOption proxy) {
    this.proxy = proxy;
  }

  @Override
  public Integer call() {
    String json = request == null || request.isEmpty() ? "{}" : String.join(" ", request);
    String problem = CliCodec.jsonProblem(json);
    if (problem != null) {
      throw new ParameterException(spec.commandLine(), "request: " + problem);
    }
    String body = SidecarClient.ok(proxy.sidecar().post("/rpc", "application/json",
        CliCodec.rpcRequest(service, method, json, null)));
    spec.commandLine().getOut().println(CliCodec.isJson(body) ? TabIndent.indent(body) : body);
    return 0;
  }
}
