package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.testing.Closing;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.RawHttp;
import io.micro.sidecar.server.testing.TestSidecars;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code /rpc} and the catch-all route against real apps on port 0 (contract §4, §5, §10). */
class RpcIT {

  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @RegisterExtension
  final Closing resources = new Closing();
  private Sidecar sidecar;

  private Sidecar sidecar(ClientConfig client) {
    return sidecar(TestSidecars.local().withClient(client));
  }

  private Sidecar sidecar(SidecarConfig config) {
    sidecar = Sidecar.start(config);
    resources.own(sidecar);
    return sidecar;
  }

  /** A sidecar on {@code backend}; the test is skipped where the kernel refuses io_uring. */
  private Sidecar sidecarOn(SidecarConfig.IoBackend backend) {
    Assumptions.assumeTrue(backend != SidecarConfig.IoBackend.IO_URING || IoUring.isAvailable(), "io_uring refused here");
    return sidecar(TestSidecars.local().withIoBackend(backend));
  }

  private JsonRpcApp app(String nodeId) {
    JsonRpcApp app = JsonRpcApp.start(nodeId);
    resources.own(app);
    return app;
  }

  private void register(String service, Node... nodes) {
    sidecar.registry().register(new Service(service, "", null, null, List.of(nodes)), Registry.NO_TTL)
        .block(Duration.ofSeconds(5));
  }

  private HttpResponse<String> post(String path, String contentType, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
        .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> rpcJson(String body) throws Exception {
    return post("/rpc", "application/json", body);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"AUTO", "IO_URING"})
  void pipelinedRequestsOnOneConnectionAreAnsweredInOrderWhicheverPathServesThem(SidecarConfig.IoBackend backend)
      throws Exception {
    // on io_uring an answer's write completes after the next request is read: reactor-netty's queue hung there
    sidecarOn(backend);
    JsonRpcApp app = app("go.micro.srv.example-1");
    register("go.micro.srv.example", app.node());
    StringBuilder pipelined = new StringBuilder();
    for (String name : List.of("one", "two")) {
      String body = "{\"service\":\"go.micro.srv.example\",\"method\":\"Say.Hello\",\"request\":{\"name\":\"" + name + "\"}}";
      pipelined.append("POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ")
          .append(body.length()).append("\r\n\r\n").append(body);
    }
    // then two that reactor-netty serves: they wait for the direct path's answers and keep their order
    pipelined.append("GET /registry?service=go.micro.srv.example HTTP/1.1\r\nHost: x\r\n\r\n")
        .append("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    String answers = RawHttp.exchange(sidecar.port(),
        pipelined.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(answers.split("HTTP/1.1 200 OK", -1)).hasSize(5);
    int one = answers.indexOf("Hello one");
    int two = answers.indexOf("Hello two");
    int registry = answers.indexOf("\"name\":\"go.micro.srv.example\"");
    assertThat(one).isPositive();
    assertThat(two).isGreaterThan(one);
    assertThat(registry).isGreaterThan(two);
    assertThat(app.calls()).isEqualTo(2);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"AUTO", "IO_URING", "EPOLL", "NIO"})
  void theSidecarServesAndCallsOnTheIoBackendItIsGiven(SidecarConfig.IoBackend backend) throws Exception {
    sidecarOn(backend);
    JsonRpcApp app = app("go.micro.srv.example-1");
    register("go.micro.srv.example", app.node());
    // auto is epoll wherever Linux has it; io_uring only when named (docs/operations.md)
    String expected = backend == SidecarConfig.IoBackend.AUTO ? (Epoll.isAvailable() ? "epoll" : "nio")
        : backend.name().toLowerCase(Locale.ROOT);
    assertThat(sidecar.transport()).isEqualTo(expected);
    HttpResponse<String> r = rpcJson("{\"service\":\"go.micro.srv.example\",\"method\":\"Say.Hello\",\"request\":{\"name\":\"loop\"}}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("Hello loop");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"AUTO", "IO_URING"})
  void aPipelinedRequestThatClosesTheConnectionIsAnsweredAfterAnAnswerReactorNettyIsStillWaitingFor(
      SidecarConfig.IoBackend backend) throws Exception {
    sidecarOn(backend);
    JsonRpcApp app = app("go.micro.srv.example-1");
    register("go.micro.srv.example", app.node());
    String body = "{\"service\":\"go.micro.srv.example\",\"method\":\"Say.Hello\",\"request\":{\"name\":\"one\"}}";
    // a chunked body goes to reactor-netty, whose answer waits for the app; the last request closes
    String pipelined = "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n"
        + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    String answers = RawHttp.exchange(sidecar.port(), pipelined.getBytes(StandardCharsets.UTF_8));
    assertThat(answers.split("HTTP/1.1 200 OK", -1)).as(answers).hasSize(3);
    assertThat(answers.indexOf("Hello one")).isPositive().isLessThan(answers.lastIndexOf("HTTP/1.1 200 OK"));
    assertThat(app.calls()).isEqualTo(1);
  }

  private static String error(String id, int code, String detail, String status) {
    return "{\"id\":\"" + id + "\",\"code\":" + code + ",\"detail\":\"" + detail + "\",\"status\":\"" + status + "\"}";
  }

  @Test
  void bothRpcFormsReachTheAppAsGoMicrosJsonRpcAndReturnTheResultByteForByte() throws Exception {
    sidecar(ClientConfig.DEFAULT);
    JsonRpcApp app = app("go.micro.srv.example-1");
    register("go.micro.srv.example", app.node());

    HttpResponse<String> form = post("/rpc", "application/x-www-form-urlencoded",
        "service=go.micro.srv.example&method=Example.Call&request=%7B%22name%22%3A+%22John%22%7D", "X-Test", "form");
    assertThat(form.statusCode()).isEqualTo(200);
    assertThat(form.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(form.body()).startsWith("{\"msg\":\"go.micro.srv.example-1: Hello John\",\"method\":\"Example.Call\"")
        .contains("\"test\":\"form\"", "\"params\":1");
    assertThat(app.bodies().get(0)).isEqualTo("{\"method\":\"Example.Call\",\"params\":[{\"name\": \"John\"}],\"id\":0}");
    long timeout = Long.parseLong(app.headers().get(0).get("timeout"));
    assertThat(timeout).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(5).toNanos());
    assertThat(app.headers().get(0)).containsEntry("content-type", "application/json")
        .containsEntry("accept", "application/json");

    HttpResponse<String> json = rpcJson(
        "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"John\"}}");
    assertThat(json.statusCode()).isEqualTo(200);
    assertThat(json.body()).startsWith("{\"msg\":\"go.micro.srv.example-1: Hello John\"");

    HttpResponse<String> stringRequest = rpcJson(
        "{\"Service\":\"go.micro.srv.example\",\"METHOD\":\"Example.Call\",\"request\":\"{\\\"name\\\":\\\"Jane\\\"}\"}");
    assertThat(stringRequest.body()).startsWith("{\"msg\":\"go.micro.srv.example-1: Hello Jane\"");

    // curl -d 'request=..' '/rpc?service=..&method=..': query and body merge as Go's ParseForm does, the body winning
    HttpResponse<String> merged = post("/rpc?service=go.micro.srv.example&method=Nope.Never&request=%7B%7D",
        "application/x-www-form-urlencoded", "method=Example.Call&request=%7B%22name%22%3A%22Query%22%7D");
    assertThat(merged.statusCode()).as(merged.body()).isEqualTo(200);
    assertThat(merged.body()).startsWith("{\"msg\":\"go.micro.srv.example-1: Hello Query\",\"method\":\"Example.Call\"");

    // no request at all: the app gets null, as the original sent it
    int before = app.bodies().size();
    assertThat(post("/rpc", "application/x-www-form-urlencoded", "service=go.micro.srv.example&method=Example.Call")
        .statusCode()).isEqualTo(200);
    assertThat(app.bodies().get(before)).isEqualTo("{\"method\":\"Example.Call\",\"params\":[null],\"id\":0}");
  }

  @Test
  void thePythonAppWrittenForTheOriginalSidecarWorksUnchanged() throws Exception {
    sidecar(ClientConfig.DEFAULT);
    Path script = Path.of(getClass().getResource("/apps/jsonrpc_app.py").toURI());
    Process python = new ProcessBuilder("python3", script.toString()).redirectErrorStream(true).start();
    resources.own(() -> python.toHandle().destroyForcibly());
    int port = Integer.parseInt(new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8))
        .readLine().strip());
    register("go.micro.srv.example", new Node("py-1", "127.0.0.1", port, null));

    HttpResponse<String> r = post("/rpc", "application/x-www-form-urlencoded",
        "service=go.micro.srv.example&method=Example.Call&request=%7B%22name%22%3A+%22John%22%7D");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"msg\": \"python: Hello John\"}");

    HttpResponse<String> e = rpcJson("{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Nope\"}");
    assertThat(e.statusCode()).isEqualTo(500);
    assertThat(e.body()).isEqualTo(error("go.micro.rpc", 500,
        "error during request: unknown method Example.Nope", "Internal Server Error"));
  }

  @Test
  void theCatchAllRouteMapsThePathAndPassesTheBodyAsTheRequest() throws Exception {
    sidecar(ClientConfig.DEFAULT);
    JsonRpcApp example = app("example-1");
    JsonRpcApp v1 = app("v1-1");
    register("go.micro.srv.example", example.node());
    register("go.micro.srv.v1.foo", v1.node());

    HttpResponse<String> r = post("/example/call", "application/json", "{\"name\": \"John\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("{\"msg\":\"example-1: Hello John\",\"method\":\"Example.Call\"");

    HttpResponse<String> versioned = post("/v1/foo/say-hello", "application/json; charset=utf-8", "{\"name\":\"V\"}");
    assertThat(versioned.statusCode()).isEqualTo(200);
    assertThat(versioned.body()).contains("\"method\":\"Foo.SayHello\"");

    assertThat(post("/example/call", "text/plain", "{}").statusCode()).isEqualTo(415);
    assertThat(post("/example/call", null, "{}").statusCode()).isEqualTo(415);
    HttpResponse<String> get = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + sidecar.port() + "/example/call")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(post("/nothing/here", "application/json", "{}").body())
        .isEqualTo(error("go.micro.client", 404, "service not found", "Not Found"));
    // an error the app gives as plain text carries the route's id: go.micro.api here, go.micro.rpc on /rpc
    assertThat(post("/example/error", "application/json", "{}").body())
        .isEqualTo(error("go.micro.api", 500, "error during request: boom", "Internal Server Error"));
    assertThat(post("/example/call", "application/json", "{\"name\":").statusCode()).isEqualTo(400);
    assertThat(post("/example/a%2Fb", "application/json", "{}").statusCode()).isEqualTo(400);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "no service        | {\"method\":\"Example.Call\"}                                                | 400 | {\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid service\",\"status\":\"Bad Request\"}",
      "no method         | {\"service\":\"go.micro.srv.example\"}                                       | 400 | {\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid method\",\"status\":\"Bad Request\"}",
      "bad request       | {\"service\":\"go.micro.srv.example\",\"method\":\"E.C\",\"request\":\"{x\"} | 400 | {\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid request:",
      "unknown service   | {\"service\":\"go.micro.srv.nope\",\"method\":\"E.C\"}                       | 404 | {\"id\":\"go.micro.client\",\"code\":404,\"detail\":\"service not found\",\"status\":\"Not Found\"}",
      "app error string  | {\"service\":\"go.micro.srv.example\",\"method\":\"Example.Error\"}          | 500 | {\"id\":\"go.micro.rpc\",\"code\":500,\"detail\":\"error during request: boom\",\"status\":\"Internal Server Error\"}",
      "app micro error   | {\"service\":\"go.micro.srv.example\",\"method\":\"Example.MicroError\"}     | 403 | {\"id\":\"go.micro.srv.example\",\"code\":403,\"detail\":\"not yours\",\"status\":\"Forbidden\"}",
      "app object error  | {\"service\":\"go.micro.srv.example\",\"method\":\"Example.ObjectError\"}    | 500 | {\"id\":\"go.micro.rpc\",\"code\":500,\"detail\":\"error during request:",
      "app HTTP 500      | {\"service\":\"go.micro.srv.example\",\"method\":\"Example.Status500\"}      | 500 | {\"id\":\"go.micro.client.transport\",\"code\":500,\"detail\":\"500 Internal Server Error: oops\"",
      "not a JSON object | [1,2]                                                                          | 400 | {\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid request body:",
      "bad address       | {\"service\":\"x\",\"method\":\"E.C\",\"address\":\"nowhere\"}               | 400 | {\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid address:",
  })
  void everyErrorIsAMicroErrorWithItsCodeAsTheStatus(String name, String body, int status, String expected) throws Exception {
    sidecar(ClientConfig.DEFAULT);
    register("go.micro.srv.example", app("example-1").node());
    HttpResponse<String> r = rpcJson(body);
    assertThat(r.statusCode()).isEqualTo(status);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(r.body()).startsWith(expected);
    // the sidecar stays healthy
    assertThat(rpcJson("{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"ok\"}}")
        .statusCode()).isEqualTo(200);
  }

  @Test
  void getOnRpcIs405AndAnUnreachableAppIs503WithTheCause() throws Exception {
    sidecar(ClientConfig.DEFAULT);
    HttpResponse<String> get = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + sidecar.port() + "/rpc")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.body()).isEqualTo(error("go.micro.rpc", 405, "method not allowed", "Method Not Allowed"));

    register("go.micro.srv.dead", new Node("dead-1", "127.0.0.1", closedPort(), null));
    HttpResponse<String> dead = rpcJson("{\"service\":\"go.micro.srv.dead\",\"method\":\"X.Y\"}");
    assertThat(dead.statusCode()).isEqualTo(503);
    assertThat(dead.body()).startsWith("{\"id\":\"go.micro.client\",\"code\":503,\"detail\":\"app unreachable: ")
        .containsIgnoringCase("refused");

    HttpResponse<String> direct = rpcJson("{\"service\":\"any\",\"method\":\"X.Y\",\"address\":\"127.0.0.1:" + closedPort() + "\"}");
    assertThat(direct.statusCode()).isEqualTo(503);
  }

  @Test
  void addressSendsStraightToThatNodeSkippingSelection() throws Exception {
    sidecar(ClientConfig.DEFAULT);
    JsonRpcApp registered = app("registered");
    JsonRpcApp other = app("other");
    register("go.micro.srv.example", registered.node());
    HttpResponse<String> r = rpcJson("{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\","
        + "\"address\":\"127.0.0.1:" + other.port() + "\",\"request\":{\"name\":\"A\"}}");
    assertThat(r.body()).startsWith("{\"msg\":\"other: Hello A\"");
    assertThat(registered.calls()).isZero();
  }

  @Test
  void theDeadlineAnswers408AndTheAppIsToldTheRemainingTime() throws Exception {
    sidecar(ClientConfig.DEFAULT.withRequestTimeout(Duration.ofMillis(300)));
    JsonRpcApp app = app("slow-1");
    register("go.micro.srv.slow", app.node());
    HttpResponse<String> r = rpcJson("{\"service\":\"go.micro.srv.slow\",\"method\":\"Slow.Slow\",\"request\":{\"ms\":3000}}");
    assertThat(r.statusCode()).isEqualTo(408);
    assertThat(r.body()).startsWith("{\"id\":\"go.micro.client\",\"code\":408,");
    assertThat(Long.parseLong(app.headers().get(0).get("timeout"))).isLessThanOrEqualTo(Duration.ofMillis(300).toNanos());
    // the cancelled call leaves the pool usable
    assertThat(rpcJson("{\"service\":\"go.micro.srv.slow\",\"method\":\"Slow.Call\",\"request\":{\"name\":\"B\"}}")
        .statusCode()).isEqualTo(200);
  }

  @Test
  void aNodeRefusingConnectionsIsRetriedOnAnotherNode() throws Exception {
    sidecar(ClientConfig.DEFAULT.withRetries(1).withEjection(1000, Duration.ofSeconds(30)));
    JsonRpcApp good = app("good");
    register("go.micro.srv.example", good.node(), new Node("refusing", "127.0.0.1", closedPort(), null));
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = rpcJson("{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"R\"}}");
      assertThat(r.statusCode()).as("call %d", i).isEqualTo(200);
      assertThat(r.body()).startsWith("{\"msg\":\"good: Hello R\"");
    }
    assertThat(good.calls()).isEqualTo(20);
  }

  @Test
  void aSlowNodeReceivesFewerCallsThanFastOnes() throws Exception {
    sidecar(ClientConfig.DEFAULT);
    JsonRpcApp slow = app("slow").delay(Duration.ofMillis(150));
    JsonRpcApp fast1 = app("fast1");
    JsonRpcApp fast2 = app("fast2");
    register("go.micro.srv.example", slow.node(), fast1.node(), fast2.node());
    // Eight clients, each calling again as soon as it has its answer: steady concurrent load.
    HttpRequest call = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/rpc"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"L\"}}")).build();
    List<CompletableFuture<Integer>> clients = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      CompletableFuture<Integer> chain = CompletableFuture.completedFuture(0);
      for (int i = 0; i < 25; i++) {
        chain = chain.thenCompose(ok -> http.sendAsync(call, HttpResponse.BodyHandlers.ofString())
            .thenApply(r -> ok + (r.statusCode() == 200 ? 1 : 0)));
      }
      clients.add(chain);
    }
    int succeeded = 0;
    for (CompletableFuture<Integer> c : clients) {
      succeeded += c.get(60, TimeUnit.SECONDS);
    }
    assertThat(succeeded).isEqualTo(200);
    assertThat(slow.calls()).as("slow got %d, fast %d and %d", slow.calls(), fast1.calls(), fast2.calls())
        .isLessThan(fast1.calls()).isLessThan(fast2.calls());
  }

  @Test
  void aFailingNodeIsEjectedForTheCoolDownThenCalledAgain() throws Exception {
    // real time here (the selector's own tests use an injected ticker): a cool-down long enough for ten
    // calls on a loaded machine, short enough to wait for
    sidecar(ClientConfig.DEFAULT.withRetries(0).withEjection(3, Duration.ofSeconds(4)));
    JsonRpcApp flaky = app("flaky").failing(true);
    JsonRpcApp good = app("good");
    register("go.micro.srv.example", flaky.node(), good.node());
    String call = "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"E\"}}";
    while (flaky.calls() < 3) {
      rpcJson(call);
    }
    int before = flaky.calls();
    for (int i = 0; i < 10; i++) {
      assertThat(rpcJson(call).statusCode()).as("ejected node gets no calls").isEqualTo(200);
    }
    assertThat(flaky.calls()).isEqualTo(before);

    flaky.failing(false);
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      assertThat(rpcJson(call).statusCode()).isEqualTo(200);
      assertThat(flaky.calls()).as("called again after the cool-down").isGreaterThan(before);
    });
  }

  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
