package io.micro.sidecar.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micro.sidecar.core.registry.Node;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A go-micro style app on port 0 answering JSON-RPC as go-micro's HTTP transport with its JSON-RPC
 * codec does. Methods: {@code *.Call} greets {@code params[0].name} with its node id and echoes the
 * {@code Timeout} and {@code X-Test} headers; {@code *.Error} answers an error string;
 * {@code *.MicroError} an error string holding a micro error; {@code *.ObjectError} a JSON-RPC 2.0
 * error object; {@code *.Status500} HTTP 500; {@code *.Slow} waits {@code params[0].ms} first.
 * Every request is recorded.
 */
public final class JsonRpcApp implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id;
  private final DisposableServer server;
  private final AtomicInteger calls = new AtomicInteger();
  private final List<Map<String, String>> headers = new CopyOnWriteArrayList<>();
  private final List<String> bodies = new CopyOnWriteArrayList<>();
  private volatile Duration delay = Duration.ZERO;
  private volatile boolean failing;

  private JsonRpcApp(String id) {
    this.id = id;
    this.server = HttpServer.create().host("127.0.0.1").port(0)
        .handle((req, res) -> req.receive().aggregate().asString().defaultIfEmpty("").flatMap(body -> {
          calls.incrementAndGet();
          Map<String, String> h = new ConcurrentHashMap<>();
          req.requestHeaders().forEach(e -> h.merge(e.getKey().toLowerCase(), e.getValue(), (a, b) -> a + "," + b));
          headers.add(h);
          bodies.add(body);
          if (failing) {
            return res.status(500).sendByteArray(Mono.just(utf8("failing on purpose"))).then();
          }
          return answer(body, h).delayElement(delay)
              .flatMap(a -> a.status == 200
                  // bytes, not sendString: reactor-netty allocates a sendString buffer before it knows the
                  // connection is still there, and leaks it when a delayed answer finds it closed
                  ? res.header("Content-Type", "application/json").sendByteArray(Mono.just(utf8(a.body))).then()
                  : res.status(a.status).sendByteArray(Mono.just(utf8(a.body))).then());
        }))
        .bindNow();
  }

  public static JsonRpcApp start(String nodeId) {
    return new JsonRpcApp(nodeId);
  }

  private Mono<Answer> answer(String body, Map<String, String> h) {
    try {
      JsonNode req = JSON.readTree(body);
      String method = req.path("method").asText();
      JsonNode param = req.path("params").path(0);
      ObjectNode out = JSON.createObjectNode();
      out.put("id", req.path("id").asInt(-1));
      String kind = method.substring(method.indexOf('.') + 1);
      switch (kind) {
        case "Error" -> out.putNull("result").put("error", "boom");
        case "MicroError" -> out.putNull("result")
            .put("error", "{\"id\":\"go.micro.srv.example\",\"code\":403,\"detail\":\"not yours\",\"status\":\"Forbidden\"}");
        case "ObjectError" -> out.putNull("result").putObject("error").put("code", -32601).put("message", "no such method");
        case "Status500" -> {
          return Mono.just(new Answer(500, "oops"));
        }
        case "Slow" -> {
          out.putObject("result").put("node", id);
          out.putNull("error");
          return Mono.just(new Answer(200, JSON.writeValueAsString(out)))
              .delayElement(Duration.ofMillis(param.path("ms").asLong(1000)));
        }
        default -> {
          ObjectNode result = out.putObject("result");
          result.put("msg", id + ": Hello " + param.path("name").asText());
          result.put("method", method);
          result.put("timeout", h.getOrDefault("timeout", ""));
          result.put("test", h.getOrDefault("x-test", ""));
          result.put("params", req.path("params").size());
          out.putNull("error");
        }
      }
      return Mono.just(new Answer(200, JSON.writeValueAsString(out)));
    } catch (Exception e) {
      return Mono.just(new Answer(400, "bad request: " + e.getMessage()));
    }
  }

  public Node node() {
    return new Node(id, "127.0.0.1", server.port(), null);
  }

  public int port() {
    return server.port();
  }

  public int calls() {
    return calls.get();
  }

  public List<Map<String, String>> headers() {
    return headers;
  }

  public List<String> bodies() {
    return bodies;
  }

  /** Every answer is delayed by this much. */
  public JsonRpcApp delay(Duration d) {
    this.delay = d;
    return this;
  }

  /** While true every request gets HTTP 500. */
  public JsonRpcApp failing(boolean f) {
    this.failing = f;
    return this;
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(5));
  }

  private record Answer(int status, String body) {}

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
