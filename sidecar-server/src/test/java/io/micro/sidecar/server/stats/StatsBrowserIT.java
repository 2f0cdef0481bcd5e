package io.micro.sidecar.server.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.testing.Closing;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.Chromium;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.TestSidecars;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

/**
 * The dashboard in a real browser: headless Chromium (Debian's {@code chromium}, which bin/test installs)
 * loads {@code /stats} from a running sidecar under traffic, runs its script, and the DOM it dumps must
 * show the live numbers. A screenshot is kept at {@code target/stats-dashboard.png}.
 */
class StatsBrowserIT {

  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Path SCREENSHOT = Path.of("target", "stats-dashboard.png");

  @RegisterExtension
  final Closing resources = new Closing();

  @Test
  void theDashboardShowsLiveNumbersInChromium() throws Exception {
    Sidecar sidecar = Sidecar.start(TestSidecars.local().withObservability(ObservabilityConfig.DEFAULT.withStats(true)));
    resources.own(sidecar);
    JsonRpcApp app = JsonRpcApp.start("greeter-1");
    resources.own(app);
    sidecar.registry().register(new Service("go.micro.srv.greeter", "", null, null, List.of(app.node())), Registry.NO_TTL)
        .block(WAIT);
    String base = "http://127.0.0.1:" + sidecar.port();

    // traffic: 5 good calls, 1 failing call, 2 not found, and a subscriber on "news" that gets 3 messages
    for (int i = 0; i < 5; i++) {
      assertThat(post(base + "/greeter/call", "{\"name\":\"n" + i + "\"}")).isEqualTo(200);
    }
    assertThat(post(base + "/greeter/error", "{}")).isEqualTo(500);
    assertThat(get(base + "/")).isEqualTo(404);
    assertThat(get(base + "/registry?service=nope")).isEqualTo(404);
    Disposable subscriber = reactor.netty.http.client.HttpClient.create() // fully qualified: name clash
        .websocket().uri(base.replace("http", "ws") + "/broker?topic=news")
        .handle((in, out) -> in.receive().then())
        .subscribe();
    resources.own(subscriber::dispose);
    await().atMost(WAIT).until(() -> sidecar.broker().stats("news").subscribers() == 1);
    for (int i = 0; i < 3; i++) {
      assertThat(post(base + "/broker?topic=news", "hello " + i)).isEqualTo(200);
    }
    await().atMost(WAIT).until(() -> sidecar.broker().delivered() == 3);

    String dom = Chromium.run("--virtual-time-budget=5000", "--dump-dom", base + "/stats");

    assertThat(text(dom, "state")).isEqualTo("live");
    assertThat(Integer.parseInt(text(dom, "refreshes"))).isPositive();
    // 5 + 1 + 2 + 3 answered before the page loaded, plus the page itself; at least the page's first JSON fetch sees them
    assertThat(Long.parseLong(text(dom, "req-20x"))).isGreaterThanOrEqualTo(5 + 3 + 1);
    assertThat(Long.parseLong(text(dom, "req-40x"))).isEqualTo(2);
    assertThat(Long.parseLong(text(dom, "req-50x"))).isEqualTo(1);
    assertThat(Integer.parseInt(text(dom, "threads"))).isPositive();
    assertThat(text(dom, "heap")).matches("[0-9.]+ (B|KiB|MiB|GiB)");
    assertThat(text(dom, "direct")).matches("[0-9.]+ (B|KiB|MiB|GiB)");
    assertThat(text(dom, "p50")).endsWith(" ms");
    assertThat(text(dom, "gc-pause")).endsWith("ms");
    assertThat(text(dom, "uptime")).matches("(\\d+[dh] )*\\d+m \\d+s");
    assertThat(text(dom, "cache-age")).isEqualTo("0.0 s");
    assertThat(text(dom, "broker-traffic")).isEqualTo("3 / 3");
    assertThat(row(dom, "data-service=\"go.micro.srv.greeter\"")).containsExactly("go.micro.srv.greeter", "6", "1", "error 1, ok 5");
    assertThat(row(dom, "data-topic=\"news\"")).containsExactly("news", "1", "0", "0");
    assertThat(dom).contains("class=\"bar\"");

    Files.createDirectories(SCREENSHOT.getParent());
    Files.deleteIfExists(SCREENSHOT);
    Chromium.run("--virtual-time-budget=5000",
        "--screenshot=" + SCREENSHOT.toAbsolutePath(), "--window-size=1280,900", base + "/stats");
    assertThat(SCREENSHOT).exists();
    assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
  }

  /** The text of the element with this id (no nested markup). */
  private static String text(String dom, String id) {
    Matcher m = Pattern.compile("id=\"" + Pattern.quote(id) + "\"[^>]*>([^<]*)<").matcher(dom);
    if (!m.find()) {
      fail("no element #" + id + " in the DOM:\n" + dom);
    }
    return m.group(1).trim();
  }

  /** The cells of the table row carrying this attribute. */
  private static List<String> row(String dom, String attribute) {
    Matcher tr = Pattern.compile("<tr[^>]*" + Pattern.quote(attribute) + "[^>]*>(.*?)</tr>").matcher(dom);
    if (!tr.find()) {
      fail("no row with " + attribute + " in the DOM:\n" + dom);
    }
    List<String> cells = new ArrayList<>();
    Matcher td = Pattern.compile("<td[^>]*>([^<]*)</td>").matcher(tr.group(1));
    while (td.find()) {
      cells.add(td.group(1));
    }
    return cells;
  }

  private static int get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static int post(String url, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
