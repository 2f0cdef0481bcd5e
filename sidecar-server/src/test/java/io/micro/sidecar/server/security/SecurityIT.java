package io.micro.sidecar.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micro.sidecar.core.config.SecurityConfig;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.TestCerts;
import io.micro.sidecar.server.testing.TestSidecars;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;

/** TLS, mutual TLS, the API token and CORS, with certificates made at test time. */
class SecurityIT {

  static TestCerts certs;

  @BeforeAll
  static void pki() {
    certs = TestCerts.create();
  }

  @AfterAll
  static void clean() throws Exception {
    try (var files = Files.walk(certs.dir())) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }

  private static Sidecar tls(boolean mutual) {
    SecurityConfig.Tls tls = new SecurityConfig.Tls(certs.serverCert(), certs.serverKey(),
        mutual ? Optional.of(certs.ca()) : Optional.empty());
    return Sidecar.start(TestSidecars.local().withSecurity(SecurityConfig.DEFAULT.withTls(tls)));
  }

  private static HttpClient client(boolean withCert) {
    return HttpClient.create().secure(spec -> spec.sslContext(Http11SslContextSpec.forClient().configure(b -> {
      b.trustManager(certs.ca().toFile());
      if (withCert) {
        b.keyManager(certs.clientCert().toFile(), certs.clientKey().toFile());
      }
    })));
  }

  private static int status(HttpClient client, String url) {
    return client.get().uri(url).responseSingle((res, body) -> body.then(Mono.just(res.status().code())))
        .block(Duration.ofSeconds(10));
  }

  /** curl with the given extra arguments; returns "exit code|body". */
  private static String curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-S", "--max-time", "10"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    return p.exitValue() + "|" + out;
  }

  @Test
  void httpsAndWssWorkWithCurlAndTheJavaClient() throws Exception {
    try (Sidecar s = tls(false)) {
      String base = "https://127.0.0.1:" + s.port();
      assertThat(curl("--cacert", certs.ca().toString(), base + "/registry")).isEqualTo("0|[]");
      assertThat(curl("--cacert", certs.ca().toString(), "-d",
          "{\"Name\":\"foo.bar\",\"Nodes\":[{\"Id\":\"foo.bar-1\",\"Address\":\"127.0.0.1\",\"Port\":9091}]}",
          base + "/registry")).isEqualTo("0|");
      assertThat(status(client(false), base + "/registry?service=foo.bar")).isEqualTo(200);
      // plain HTTP to a TLS port is not served
      assertThat(curl("http://127.0.0.1:" + s.port() + "/registry")).doesNotStartWith("0|[");
      // a client that does not trust the CA fails the handshake
      assertThat(curl(base + "/registry")).startsWith("60|");

      BlockingQueue<String> frames = new LinkedBlockingQueue<>();
      client(false).websocket().uri("wss://127.0.0.1:" + s.port() + "/broker?topic=t")
          .handle((in, out) -> out.sendString(Mono.just("over tls"))
              .then(in.receive().asString().doOnNext(frames::add).then()))
          .subscribe();
      assertThat(frames.poll(10, TimeUnit.SECONDS)).contains("\"Body\":\"b3ZlciB0bHM=\"");
    }
  }

  @Test
  void mutualTlsRefusesAClientWithoutACertificateAtTheHandshakeAndAcceptsOneWith() throws Exception {
    try (Sidecar s = tls(true)) {
      String url = "https://127.0.0.1:" + s.port() + "/healthz";
      String without = curl("--cacert", certs.ca().toString(), url);
      assertThat(without).doesNotStartWith("0|");
      assertThatThrownBy(() -> status(client(false), url)).isInstanceOf(RuntimeException.class);
      assertThat(curl("--cacert", certs.ca().toString(), "--cert", certs.clientCert().toString(),
          "--key", certs.clientKey().toString(), url)).isEqualTo("0|ok\n");
      assertThat(status(client(true), url)).isEqualTo(200);
    }
  }

  @Test
  void theApiTokenGuardsChangesAndReadsUnlessReadsAreOpen() throws Exception {
    String token = "s3cret-token-0123456789";
    try (Sidecar s = Sidecar.start(TestSidecars.local().withSecurity(SecurityConfig.DEFAULT.withApiToken(token, false)))) {
      String base = "http://127.0.0.1:" + s.port();
      String body = "{\"Name\":\"foo\",\"Nodes\":[{\"Id\":\"foo-1\"}]}";
      String none = curl("-i", "-d", body, base + "/registry");
      assertThat(none).contains("HTTP/1.1 401").containsIgnoringCase("WWW-Authenticate: Bearer")
          .contains("unauthorized: missing or wrong API token").doesNotContain(token);
      assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer wrong-token-0123456789",
          "-d", body, base + "/registry")).isEqualTo("0|401");
      assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer " + token,
          "-d", body, base + "/registry")).isEqualTo("0|200");
      assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", base + "/registry")).isEqualTo("0|401");
      assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", base + "/rpc", "-d", "service=x&method=y"))
          .isEqualTo("0|401");
      assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", base + "/broker?topic=t", "-d", "x"))
          .isEqualTo("0|401");
      assertThat(curl(base + "/healthz")).as("probes need no token").isEqualTo("0|ok\n");

      // the token is the sidecar's own: an app called with it never sees it
      try (JsonRpcApp app = JsonRpcApp.start("app-1")) {
        s.registry().register(new Service("go.micro.srv.app", "", null, null,
            List.of(app.node())), Registry.NO_TTL).block(Duration.ofSeconds(5));
        assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer " + token,
            "-H", "Content-Type: application/json", "-d", "{\"service\":\"go.micro.srv.app\",\"method\":\"A.Call\"}",
            base + "/rpc")).isEqualTo("0|200");
        assertThat(app.headers().get(0)).doesNotContainKey("authorization");
      }
    }
    try (Sidecar s = Sidecar.start(TestSidecars.local().withSecurity(SecurityConfig.DEFAULT.withApiToken(token, true)))) {
      String base = "http://127.0.0.1:" + s.port();
      assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", base + "/registry")).isEqualTo("0|200");
      assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", "-d", "{}", base + "/registry")).isEqualTo("0|401");
    }
  }

  @Test
  void corsHeadersOnEveryRouteAPreflightAndTheOriginCheckOfWebSockets() throws Exception {
    try (Sidecar any = Sidecar.start(TestSidecars.local())) {
      String base = "http://127.0.0.1:" + any.port();
      String preflight = curl("-i", "-X", "OPTIONS", "-H", "Origin: https://app.example",
          "-H", "Access-Control-Request-Method: POST", base + "/rpc");
      // the origin is echoed, never *, for a request that names one (contract §12); no credentials by default
      assertThat(preflight).startsWith("0|HTTP/1.1 200").containsIgnoringCase("Access-Control-Allow-Origin: https://app.example")
          .containsIgnoringCase("Vary: Origin")
          .containsIgnoringCase("Access-Control-Allow-Methods: POST, PATCH, GET, OPTIONS, PUT, DELETE")
          .containsIgnoringCase("Access-Control-Allow-Headers: Accept, Content-Type")
          .doesNotContainIgnoringCase("Access-Control-Allow-Credentials");
      assertThat(curl("-i", "-X", "OPTIONS", "-H", "Origin: https://app.example", "-H", "Access-Control-Request-Method: POST",
          "-H", "Access-Control-Request-Headers: content-type, x-trace", base + "/rpc"))
          .as("a preflight gets the headers it asks for").containsIgnoringCase("Access-Control-Allow-Headers: content-type, x-trace");
      assertThat(curl("-i", base + "/registry")).containsIgnoringCase("Access-Control-Allow-Origin: *");
      assertThat(curl("-i", base + "/nope/x", "-d", "{}")).containsIgnoringCase("Access-Control-Allow-Origin: *");
    }
    try (Sidecar some = Sidecar.start(TestSidecars.local()
        .withSecurity(SecurityConfig.DEFAULT.withCors(List.of("https://good.example"))))) {
      String base = "http://127.0.0.1:" + some.port();
      assertThat(curl("-i", "-H", "Origin: https://good.example", base + "/registry"))
          .containsIgnoringCase("Access-Control-Allow-Origin: https://good.example").containsIgnoringCase("Vary: origin");
      assertThat(curl("-i", "-H", "Origin: https://evil.example", base + "/registry"))
          .doesNotContainIgnoringCase("Access-Control-Allow-Origin");
      String ws = curl("-i", "-H", "Origin: https://evil.example", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
          "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", base + "/broker?topic=t");
      assertThat(ws).contains("HTTP/1.1 403").contains("origin not allowed: https://evil.example");
    }
  }

  @Test
  void theServersTlsContextIsBuiltFromTheFilesOrTheStartFails() {
    assertThat(SslContextBuilder.class).isNotNull();
    SecurityConfig.Tls swapped = new SecurityConfig.Tls(certs.serverKey(), certs.serverCert(), Optional.empty());
    assertThatThrownBy(() -> Sidecar.start(TestSidecars.local().withSecurity(SecurityConfig.DEFAULT.withTls(swapped))))
        .hasMessageContaining("cannot use --tls_cert_file");
  }
}
