package io.micro.sidecar.server.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.testing.Closing;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.TestSidecars;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** W3C trace context reaches the app on {@code /rpc}, the catch-all and the proxy. */
class TraceIT {

  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  private static final String STATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

  @RegisterExtension
  final Closing resources = new Closing();
  private Sidecar sidecar;

  private JsonRpcApp rpcApp(SidecarConfig config) {
    sidecar = Sidecar.start(config);
    resources.own(sidecar);
    JsonRpcApp app = JsonRpcApp.start("traced-1");
    resources.own(app);
    sidecar.registry().register(new Service("go.micro.srv.example", "", null, null, List.of(app.node())), Registry.NO_TTL)
        .block(WAIT);
    return app;
  }

  private int post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
        .timeout(WAIT).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static final String RPC = "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"J\"}}";

  @Test
  void byDefaultTraceHeadersArePassedOnUnchangedAndNoneAreMadeUp() throws Exception {
    JsonRpcApp app = rpcApp(TestSidecars.local());
    assertThat(post("/rpc", RPC, "traceparent", PARENT, "tracestate", STATE)).isEqualTo(200);
    assertThat(post("/example/call", "{\"name\":\"J\"}", "traceparent", PARENT, "tracestate", STATE)).isEqualTo(200);
    assertThat(post("/rpc", RPC)).isEqualTo(200);
    assertThat(app.headers()).hasSize(3);
    for (int i = 0; i < 2; i++) {
      assertThat(app.headers().get(i)).containsEntry("traceparent", PARENT).containsEntry("tracestate", STATE);
    }
    assertThat(app.headers().get(2)).doesNotContainKeys("traceparent", "tracestate");
  }

  @Test
  void withTraceCreateTheAppGetsAChildSpanOrANewTrace() throws Exception {
    JsonRpcApp app = rpcApp(TestSidecars.local().withObservability(ObservabilityConfig.DEFAULT.withTraceCreate(true)));
    assertThat(post("/rpc", RPC, "traceparent", PARENT, "tracestate", STATE)).isEqualTo(200);
    assertThat(post("/example/call", "{\"name\":\"J\"}")).isEqualTo(200);
    assertThat(post("/rpc", RPC, "traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "tracestate", STATE))
        .isEqualTo(200);

    String child = app.headers().get(0).get("traceparent");
    assertThat(TraceParent.valid(child)).isTrue();
    assertThat(child).startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-").endsWith("-01").isNotEqualTo(PARENT);
    assertThat(app.headers().get(0)).containsEntry("tracestate", STATE);

    String created = app.headers().get(1).get("traceparent");
    assertThat(created).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    assertThat(TraceParent.valid(created)).isTrue();

    String restarted = app.headers().get(2).get("traceparent");
    assertThat(TraceParent.valid(restarted)).as("an invalid one is replaced").isTrue();
    assertThat(app.headers().get(2)).as("its orphaned tracestate is dropped").doesNotContainKey("tracestate");
  }

  @Test
  void theProxyPassesTraceHeadersToTheApp() throws Exception {
    List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
    DisposableServer app = HttpServer.create().host("127.0.0.1").port(0)
        .handle((req, res) -> {
          Map<String, String> h = new ConcurrentHashMap<>();
          req.requestHeaders().forEach(e -> h.put(e.getKey().toLowerCase(), e.getValue()));
          seen.add(h);
          return res.sendString(Mono.just("ok"));
        })
        .bindNow();
    resources.own(() -> app.disposeNow(WAIT));
    sidecar = Sidecar.start(TestSidecars.local().withHandler(SidecarConfig.Handler.PROXY));
    resources.own(sidecar);
    sidecar.registry().register(new Service("go.micro.srv.echo", "", null, null,
        List.of(new Node("echo-1", "127.0.0.1", app.port(), null))), Registry.NO_TTL).block(WAIT);

    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/echo/hi"))
        .timeout(WAIT).header("traceparent", PARENT).header("tracestate", STATE).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(seen).singleElement().satisfies(h ->
        assertThat(h).containsEntry("traceparent", PARENT).containsEntry("tracestate", STATE));
  }
}
