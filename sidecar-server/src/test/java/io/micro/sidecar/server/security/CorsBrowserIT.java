package io.micro.sidecar.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.config.SecurityConfig;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.Chromium;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.TestSidecars;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * CORS as a browser enforces it (contract §12): a page served from another origin calls the sidecar
 * with {@code fetch} in headless Chromium. A plain call and a JSON POST (which needs a preflight)
 * succeed; a call with credentials succeeds only under {@code --cors_credentials}.
 */
class CorsBrowserIT {

  private static final Duration WAIT = Duration.ofSeconds(10);

  /** A page whose script calls the sidecar three ways and writes each outcome into an element. */
  private static String page(int sidecarPort) {
    String base = "http://127.0.0.1:" + sidecarPort;
    return "<html><body><p id=plain>pending</p><p id=post>pending</p><p id=credentials>pending</p><script>\n"
        + "function show(id, p) { p.then(r => r.text().then(t => document.getElementById(id).textContent = r.status + ' ' + t))"
        + ".catch(e => document.getElementById(id).textContent = 'blocked'); }\n"
        + "show('plain', fetch('" + base + "/registry?service=go.micro.srv.greeter'));\n"
        + "show('post', fetch('" + base + "/rpc', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        + " body: JSON.stringify({service: 'go.micro.srv.greeter', method: 'Say.Hello', request: {name: 'page'}})}));\n"
        + "show('credentials', fetch('" + base + "/registry?service=go.micro.srv.greeter', {credentials: 'include'}));\n"
        + "</script></body></html>";
  }

  private static String text(String dom, String id) {
    Matcher m = Pattern.compile("id=\"" + id + "\">([^<]*)<").matcher(dom);
    assertThat(m.find()).as("#%s in %s", id, dom).isTrue();
    return m.group(1);
  }

  private static String loadPage(Sidecar sidecar) throws Exception {
    String html = page(sidecar.port());
    DisposableServer origin = HttpServer.create().host("127.0.0.1").port(0)
        .handle((req, res) -> res.header("Content-Type", "text/html").sendString(Mono.just(html)))
        .bindNow();
    try {
      return Chromium.run("--virtual-time-budget=5000", "--dump-dom", "http://127.0.0.1:" + origin.port() + "/");
    } finally {
      origin.disposeNow();
    }
  }

  @Test
  void aPageOnAnotherOriginCallsTheSidecarAndCredentialsNeedTheFlag() throws Exception {
    try (JsonRpcApp app = JsonRpcApp.start("greeter-1")) {
      Service greeter = new Service("go.micro.srv.greeter", "", null, null, List.of(app.node()));
      try (Sidecar plain = Sidecar.start(TestSidecars.local())) {
        plain.registry().register(greeter, Registry.NO_TTL).block(WAIT);
        String dom = loadPage(plain);
        assertThat(text(dom, "plain")).startsWith("200 [{\"name\":\"go.micro.srv.greeter\"");
        assertThat(text(dom, "post")).startsWith("200 {\"msg\":\"greeter-1: Hello page\"");
        assertThat(text(dom, "credentials")).as("no Allow-Credentials without --cors_credentials").isEqualTo("blocked");
      }
      try (Sidecar withCredentials = Sidecar.start(TestSidecars.local()
          .withSecurity(SecurityConfig.DEFAULT.withCorsCredentials(true)))) {
        withCredentials.registry().register(greeter, Registry.NO_TTL).block(WAIT);
        String dom = loadPage(withCredentials);
        assertThat(text(dom, "credentials")).startsWith("200 [{\"name\":\"go.micro.srv.greeter\"");
        assertThat(text(dom, "post")).startsWith("200 ");
      }
    }
  }
}
