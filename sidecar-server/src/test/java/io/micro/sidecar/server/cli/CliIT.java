package io.micro.sidecar.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.micro.sidecar.core.registry.Endpoint;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.Value;
import io.micro.sidecar.server.Main;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.RunningSidecar;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The CLI as a user runs it (contract §9): the real {@code micro} main class in a child process,
 * talking to an in-process sidecar on port 0 with a JSON-RPC app registered.
 */
class CliIT {

  private static final String GREETER = "go.micro.srv.greeter";

  static JsonRpcApp app;
  static String address;

  @RegisterExtension
  static final RunningSidecar sidecar = RunningSidecar.local();

  @BeforeAll
  static void start() {
    address = "127.0.0.1:" + sidecar.port();
    app = JsonRpcApp.start("greeter-1");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @AfterEach
  void empty() {
    for (Service s : sidecar.registry().list().block(Duration.ofSeconds(5))) {
      for (Service version : sidecar.registry().lookup(s.name()).block(Duration.ofSeconds(5))) {
        sidecar.registry().deregister(version).block(Duration.ofSeconds(5));
      }
    }
  }

  record Run(int code, String out, String err) {}

  private static Run micro(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dio.netty.leakDetection.level=paranoid", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("MICRO_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      CompletableFuture<String> out = read(p.getInputStream());
      CompletableFuture<String> err = read(p.getErrorStream());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("micro %s ends", List.of(args)).isTrue();
      return new Run(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    } finally {
      p.destroyForcibly();
    }
  }

  private static Run micro(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--proxy_address=" + address));
    all.addAll(List.of(args));
    return micro(Map.of(), all.toArray(String[]::new));
  }

  private static CompletableFuture<String> read(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static void register(Service s) {
    sidecar.registry().register(s, Registry.NO_TTL).block(Duration.ofSeconds(5));
  }

  private static Service greeter(Node... nodes) {
    return new Service(GREETER, "", null, null, List.of(nodes));
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void theContractsExampleListsServicesSortedOncePerName() throws Exception {
    register(greeter(app.node()));
    register(new Service("a.b", "1", null, null, List.of(new Node("a.b-1", "127.0.0.1", 1, null))));
    register(new Service("a.b", "2", null, null, List.of(new Node("a.b-2", "127.0.0.1", 2, null))));

    Run r = micro("list", "services");
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).isEqualTo("a.b\n" + GREETER + "\n");
    assertThat(r.code()).isZero();
  }

  @Test
  void theProxyAddressMayComeFromTheEnvironmentAndCarryHttp() throws Exception {
    register(greeter(app.node()));
    Run env = micro(Map.of("MICRO_PROXY_ADDRESS", address), "list", "services");
    assertThat(env.out()).isEqualTo(GREETER + "\n");
    assertThat(env.code()).isZero();

    Run prefixed = micro(Map.of(), "--proxy_address=http://" + address + "/", "list", "services");
    assertThat(prefixed.out()).isEqualTo(GREETER + "\n");
    assertThat(prefixed.code()).isZero();

    Run flagWins = micro(Map.of("MICRO_PROXY_ADDRESS", "127.0.0.1:" + closedPort()),
        "--proxy_address=" + address, "list", "services");
    assertThat(flagWins.out()).isEqualTo(GREETER + "\n");
  }

  @Test
  void getServicePrintsVersionsNodesAndEndpoints() throws Exception {
    Endpoint hello = new Endpoint("Say.Hello",
        new Value("Request", "Request", List.of(new Value("Name", "string", null))), null, null);
    register(new Service(GREETER, "1.0.0", null, List.of(hello),
        List.of(new Node("greeter-1", "127.0.0.1", 9090, Map.of("zone", "a", "broker", "http")))));

    Run r = micro("get", "service", GREETER);
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).isEqualTo("""
        service  go.micro.srv.greeter

        version 1.0.0

        Id\tAddress\tPort\tMetadata
        greeter-1\t127.0.0.1\t9090\tbroker=http,zone=a

        Endpoint: Say.Hello
        Metadata:\s

        Request: {
        \tname string
        }

        Response: {}

        """);
    assertThat(r.code()).isZero();
  }

  @Test
  void anUnknownServiceIsNotFoundForGetAndHealth() throws Exception {
    for (String command : List.of("get service", "health")) {
      List<String> args = new ArrayList<>(List.of(command.split(" ")));
      args.add("nope");
      Run r = micro(args.toArray(String[]::new));
      assertThat(r.err()).as(command).isEqualTo("micro: service nope not found\n");
      assertThat(r.out()).isEmpty();
      assertThat(r.code()).isEqualTo(1);
    }
  }

  @Test
  void registerAndDeregisterPrintOkAndChangeTheRegistry() throws Exception {
    String json = "{\"Name\": \"foo.bar\", \"Nodes\": [{\"Port\": 9091, \"Address\": \"127.0.0.1\", \"Id\": \"foo.bar-1\"}]}";
    Run reg = micro("register", "service", json);
    assertThat(reg.out()).isEqualTo("ok\n");
    assertThat(reg.code()).isZero();
    assertThat(sidecar.registry().lookup("foo.bar").block(Duration.ofSeconds(5)).get(0).nodes())
        .containsExactly(new Node("foo.bar-1", "127.0.0.1", 9091, null));

    Run dereg = micro("deregister", "service", json);
    assertThat(dereg.out()).isEqualTo("ok\n");
    assertThat(dereg.code()).isZero();
    assertThat(sidecar.registry().lookup("foo.bar").block(Duration.ofSeconds(5))).isEmpty();
  }

  @Test
  void aRefusalFromTheSidecarIsPrintedOnOneLineAndExitsOne() throws Exception {
    Run r = micro("register", "service", "{\"name\":\"foo.bar\"}");
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("micro: 400 nodes: missing (expected: at least one node with an id)\n");
    assertThat(r.code()).isEqualTo(1);
  }

  @Test
  void badJsonExitsTwoWithoutCallingTheSidecar() throws Exception {
    Run r = micro("register", "service", "{\"name\":");
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("micro: not a service: body: invalid JSON").doesNotContain("\n\n");
    assertThat(r.err().strip()).doesNotContain("\n");
    assertThat(r.code()).isEqualTo(2);
    assertThat(sidecar.registry().list().block(Duration.ofSeconds(5))).isEmpty();
  }

  @Test
  void queryPrintsTheAnswerIndentedByTabs() throws Exception {
    register(greeter(app.node()));
    int before = app.bodies().size();
    Run r = micro("query", GREETER, "Greeter.Call", "{\"name\": \"John\"}");
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).startsWith("{\n\t\"msg\": \"greeter-1: Hello John\",\n\t\"method\": \"Greeter.Call\",\n")
        .contains("\n\t\"params\": 1\n}\n");
    assertThat(r.code()).isZero();
    assertThat(app.bodies().get(before)).isEqualTo("{\"method\":\"Greeter.Call\",\"params\":[{\"name\": \"John\"}],\"id\":0}");

    Run empty = micro("query", GREETER, "Greeter.Call");
    assertThat(empty.code()).isZero();
    assertThat(app.bodies().get(before + 1)).isEqualTo("{\"method\":\"Greeter.Call\",\"params\":[{}],\"id\":0}");
  }

  @Test
  void aQueryToAnUnknownServicePrintsTheMicroErrorAndExitsOne() throws Exception {
    Run r = micro("query", "nope", "Foo.Bar", "{}");
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo(
        "micro: 404 {\"id\":\"go.micro.client\",\"code\":404,\"detail\":\"service not found\",\"status\":\"Not Found\"}\n");
    assertThat(r.code()).isEqualTo(1);
  }

  @Test
  void healthCallsDebugHealthOnEveryNodeAndExitsOneWhenANodeIsDown() throws Exception {
    int dead = closedPort();
    register(greeter(app.node(), new Node("greeter-dead", "127.0.0.1", dead, null)));
    int before = app.bodies().size();

    Run r = micro("health", GREETER);
    assertThat(r.err()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.subList(0, 6)).containsExactly("service  " + GREETER, "", "version ", "",
        "node\t\taddress:port\t\tstatus", "greeter-1\t\t127.0.0.1:" + app.port() + "\t\tok");
    assertThat(lines).hasSize(7);
    assertThat(lines.get(6)).startsWith("greeter-dead\t\t127.0.0.1:" + dead + "\t\t")
        .doesNotEndWith("\t\tok").doesNotContain("{");
    assertThat(r.code()).isEqualTo(1);
    assertThat(app.bodies().subList(before, app.bodies().size()))
        .containsExactly("{\"method\":\"Debug.Health\",\"params\":[{}],\"id\":0}");

    sidecar.registry().deregister(greeter(new Node("greeter-dead", "127.0.0.1", dead, null))).block(Duration.ofSeconds(5));
    Run healthy = micro("health", GREETER);
    assertThat(healthy.out()).endsWith("greeter-1\t\t127.0.0.1:" + app.port() + "\t\tok\n");
    assertThat(healthy.code()).isZero();
  }

  @Test
  void aSidecarThatIsDownIsNamedWithTheCause() throws Exception {
    int port = closedPort();
    Run r = micro(Map.of(), "--proxy_address=127.0.0.1:" + port, "list", "services");
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("micro: cannot reach the sidecar at 127.0.0.1:" + port + ": connection refused\n");
    assertThat(r.code()).isEqualTo(1);
  }

  /** The sidecar's /broker is built elsewhere; a stub records what publish sends. */
  @Test
  void publishPostsTheMessageToTheBrokerAndPrintsOk() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    HttpServer broker = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    broker.createContext("/", ex -> {
      seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + ex.getRequestHeaders().getFirst("Content-Type")
          + " " + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      int status = ex.getRequestURI().getQuery().contains("topic=fail") ? 400 : 200;
      byte[] body = status == 200 ? new byte[0] : "Topic not specified\n".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    broker.start();
    try {
      String stub = "127.0.0.1:" + broker.getAddress().getPort();
      Run r = micro(Map.of(), "--proxy_address=" + stub, "publish", "foo bar", "Hello", "World!");
      assertThat(r.err()).isEmpty();
      assertThat(r.out()).isEqualTo("ok\n");
      assertThat(r.code()).isZero();
      assertThat(seen).containsExactly("POST /broker?topic=foo+bar text/plain Hello World!");

      Run refused = micro(Map.of(), "--proxy_address=" + stub, "publish", "fail", "x");
      assertThat(refused.err()).isEqualTo("micro: 400 Topic not specified\n");
      assertThat(refused.code()).isEqualTo(1);
    } finally {
      broker.stop(0);
    }
  }
}
