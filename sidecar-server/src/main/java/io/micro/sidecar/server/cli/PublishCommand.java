package io.micro.sidecar.server.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code micro publish <topic> <message>}: {@code POST /broker?topic=}, prints {@code ok}. */
@Command(name = "publish", mixinStandardHelpOptions = true, usageHelpWidth = 120,
    description = {"Publish a message to a topic through the sidecar at --proxy_address.",
        "POST /broker?topic=<topic> with the message as the body (Content-Type: text/plain), then print 'ok'.",
        "Arguments after the topic are joined by spaces."},
    footer = {"", "An error from the sidecar prints 'micro: <status> <reason>' to stderr and exits 1.",
        "", "Example:", "  micro publish foo 'Hello World!'", "  ok"})
final class PublishCommand implements Callable<Integer> {

  private final ProxyOption proxy;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<topic>", description = "Topic, e.g. foo")
  String topic;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "<message>", description = "The message")
  List<String> message;

  PublishCommand(ProxyOption proxy) {
    this.proxy = proxy;
  }

  @Override
  public Integer call() {
    SidecarClient.ok(proxy.sidecar().post("/broker?topic=" + SidecarClient.query(topic), "text/plain",
        String.join(" ", message)));
    spec.commandLine().getOut().println("ok");
    return 0;
  }
}
