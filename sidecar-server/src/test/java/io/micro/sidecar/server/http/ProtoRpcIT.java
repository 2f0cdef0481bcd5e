package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.TestSidecars;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Proto-rpc on the catch-all route (contract §5): the caller's protobuf bytes reach a go-micro
 * proto-rpc app framed as two netstrings, and the reply's bytes come back with the caller's content
 * type. The app here decodes the envelope itself, byte by byte, as go-micro's server does.
 */
class ProtoRpcIT {

  static Sidecar sidecar;
  static DisposableServer app;
  static final Map<String, String> seen = new ConcurrentHashMap<>();
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    app = HttpServer.create().host("127.0.0.1").port(0)
        .handle((req, res) -> req.receive().aggregate().asByteArray().flatMap(bytes -> {
          seen.put("content-type", req.requestHeaders().get("Content-Type", ""));
          ByteBuffer in = ByteBuffer.wrap(bytes);
          byte[] envelope = new byte[in.getInt()];
          in.get(envelope);
          byte[] body = new byte[in.getInt()];
          in.get(body);
          // Request { string service_method = 1; fixed64 seq = 2; }: tag 0x0a, a one-byte length, the name
          String method = new String(envelope, 2, envelope[1], StandardCharsets.UTF_8);
          seen.put("method", method);
          String error = method.equals("Example.Fail") ? "boom" : "";
          byte[] reply = ("echo:" + method + ":" + new String(body, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
          return res.header("Content-Type", "application/octet-stream")
              .sendByteArray(Mono.just(frame(response(method, error), reply))).then();
        }))
        .bindNow();
    sidecar = Sidecar.start(TestSidecars.local());
    sidecar.registry().register(new Service("go.micro.srv.example", "", null, null,
        List.of(new Node("proto-1", "127.0.0.1", app.port(), null))), Registry.NO_TTL).block(Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() {
    sidecar.close();
    app.disposeNow();
  }

  /** Response { string service_method = 1; fixed64 seq = 2; string error = 3; } */
  static byte[] response(String method, String error) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x0a);
    out.write(method.length());
    out.writeBytes(method.getBytes(StandardCharsets.UTF_8));
    out.write(0x11);
    out.writeBytes(new byte[8]);
    if (!error.isEmpty()) {
      out.write(0x1a);
      out.write(error.length());
      out.writeBytes(error.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  static byte[] frame(byte[] envelope, byte[] body) {
    return ByteBuffer.allocate(8 + envelope.length + body.length)
        .putInt(envelope.length).put(envelope).putInt(body.length).put(body).array();
  }

  static HttpResponse<byte[]> post(String path, String type, byte[] body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
        .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void protobufBytesGoThroughAsGoMicrosProtoRpcAndTheReplyComesBackAsIs() throws Exception {
    byte[] john = {0x0a, 0x04, 'J', 'o', 'h', 'n'};
    for (String type : List.of("application/protobuf", "application/proto")) {
      HttpResponse<byte[]> r = post("/example/call", type, john);
      assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type")).hasValue(type);
      assertThat(new String(r.body(), StandardCharsets.ISO_8859_1)).isEqualTo("echo:Example.Call:\n\u0004John");
      assertThat(seen).containsEntry("content-type", "application/octet-stream").containsEntry("method", "Example.Call");
    }
  }

  @Test
  void anErrorInTheResponseEnvelopeIsAMicroErrorWithTheCatchAllsId() throws Exception {
    HttpResponse<byte[]> r = post("/example/fail", "application/protobuf", new byte[] {1, 2, 3});
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"id\":\"go.micro.api\",\"code\":500,\"detail\":\"error during request: boom\",\"status\":\"Internal Server Error\"}");
  }
}
