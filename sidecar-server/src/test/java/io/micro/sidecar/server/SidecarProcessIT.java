package io.micro.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.server.testing.JsonRpcApp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.netty.http.client.HttpClient.WebsocketSender;

/** The sidecar as a user runs it: a separate process, started by flags, stopped by a signal. */
class SidecarProcessIT {

  private static final Pattern LISTENING = Pattern.compile("sidecar listening on .*:(\\d+) ");

  private static final String EOF = "<end of output>";

  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void kill() {
    started.forEach(Process::destroyForcibly);
  }

  private Process micro(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dio.netty.leakDetection.level=paranoid", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    started.add(p);
    return p;
  }

  /** Reads the output in the background; returns the port once the sidecar says it listens. */
  private static int awaitListening(Process p, BlockingQueue<String> lines) throws Exception {
    return awaitListening(p, lines, new ArrayList<>());
  }

  /** As above, keeping the lines read up to the one that says it listens in {@code seen}. */
  private static int awaitListening(Process p, BlockingQueue<String> lines, List<String> seen) throws Exception {
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
          System.out.println("[sidecar] " + line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
      lines.add(EOF);
    }, "sidecar-output");
    reader.setDaemon(true);
    reader.start();
    for (String line = lines.poll(30, TimeUnit.SECONDS); line != null; line = lines.poll(30, TimeUnit.SECONDS)) {
      seen.add(line);
      Matcher m = LISTENING.matcher(line);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    throw new AssertionError("the sidecar never said it was listening: " + seen);
  }

  @Test
  void registersTheAppAtStartAndDeregistersItOnSigtermBeforeStopping() throws Exception {
    Process p = micro("sidecar", "--address=127.0.0.1:0", "--server_name=foo", "--server_address=127.0.0.1:9090");
    BlockingQueue<String> output = new LinkedBlockingQueue<>();
    int port = awaitListening(p, output);

    HttpResponse<String> found = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/registry?service=foo")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(found.statusCode()).isEqualTo(200);
    assertThat(found.body()).matches(
        "\\[\\{\"name\":\"foo\",\"version\":\"\",\"metadata\":null,\"endpoints\":null,\"nodes\":\\[\\{\"id\":\"foo-"
            + "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\",\"address\":\"127.0.0.1\",\"port\":9090,\"metadata\":null}]}]");

    BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    BlockingQueue<Boolean> connected = new LinkedBlockingQueue<>();
    BlockingQueue<Boolean> closed = new LinkedBlockingQueue<>();
    WebsocketSender ws = reactor.netty.http.client.HttpClient.create().websocket(); // fully qualified: name clash
    Disposable watch = ws.uri("ws://127.0.0.1:" + port + "/registry?service=foo")
        .handle((in, out) -> {
          connected.add(true);
          return in.receive().asString().doOnNext(frames::add).then();
        })
        .doFinally(s -> closed.add(true))
        .subscribe();
    try {
      assertThat(connected.poll(10, TimeUnit.SECONDS)).isTrue();
      // The server subscribes the watch just after the handshake; a probe node proves it is watching.
      HttpClient http = HttpClient.newHttpClient();
      // (each attempt a new node: re-registering an unchanged node sends no event)
      String seen = null;
      int probes = 0;
      while (seen == null && probes < 100) {
        probes++;
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/registry"))
            .POST(HttpRequest.BodyPublishers.ofString(probe(probes))).build(), HttpResponse.BodyHandlers.discarding());
        seen = frames.poll(100, TimeUnit.MILLISECONDS);
      }
      assertThat(seen).as("the watch works").contains("\"id\":\"probe-");
      for (int i = 1; i <= probes; i++) {
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/registry"))
            .method("DELETE", HttpRequest.BodyPublishers.ofString(probe(i))).build(), HttpResponse.BodyHandlers.discarding());
      }
      for (String f = frames.poll(10, TimeUnit.SECONDS); !f.contains("\"id\":\"probe-" + probes + "\"");
           f = frames.poll(10, TimeUnit.SECONDS)) {
        assertThat(f).as("only probe frames so far").contains("probe-");
      }
      frames.clear();

      // SIGTERM, as an orchestrator sends it: the watch hears of the deregistration before the close.
      // ProcessHandle sends SIGTERM without closing our end of its output, which Process.destroy() does.
      assertThat(p.toHandle().destroy()).isTrue();
      String frame = frames.poll(15, TimeUnit.SECONDS);
      assertThat(frame).as("a delete frame for the app before the sidecar stops").isNotNull()
          .startsWith("{\"Action\":\"delete\",\"Service\":{\"name\":\"foo\"").contains("\"id\":\"foo-");
      assertThat(closed.poll(15, TimeUnit.SECONDS)).as("the watch is closed as the sidecar stops").isTrue();
      assertThat(p.waitFor(15, TimeUnit.SECONDS)).as("the process exits").isTrue();
      assertThat(p.exitValue()).isEqualTo(143);
      List<String> rest = new ArrayList<>();
      for (String line = output.poll(10, TimeUnit.SECONDS); line != null && !line.equals(EOF);
           line = output.poll(10, TimeUnit.SECONDS)) {
        rest.add(line);
      }
      assertThat(String.join("\n", rest)).contains("deregistered app foo node foo-", "sidecar stopped");
    } finally {
      watch.dispose();
    }
  }

  @Test
  void sigtermUnderLoadDeregistersFirstDrainsInFlightCallsAndClosesWebSocketsWith1001() throws Exception {
    try (JsonRpcApp slow =
             JsonRpcApp.start("slow-1").delay(Duration.ofMillis(1500))) {
      Process p = micro("sidecar", "--address=127.0.0.1:0", "--server_name=foo", "--server_address=127.0.0.1:9090",
          "--shutdown_delay=1s", "--shutdown_grace=10s");
      BlockingQueue<String> output = new LinkedBlockingQueue<>();
      int port = awaitListening(p, output);
      String base = "http://127.0.0.1:" + port;
      HttpClient http = HttpClient.newHttpClient();
      http.send(HttpRequest.newBuilder(URI.create(base + "/registry")).POST(HttpRequest.BodyPublishers.ofString(
          "{\"name\":\"go.micro.srv.slow\",\"nodes\":[{\"id\":\"slow-1\",\"address\":\"127.0.0.1\",\"port\":"
              + slow.port() + "}]}")).build(), HttpResponse.BodyHandlers.discarding());

      // a watcher of the app, proven subscribed with a probe node
      BlockingQueue<String> events = new LinkedBlockingQueue<>();
      // Java's own WebSocket client, which reports the close code it receives
      WebSocket watch = http.newWebSocketBuilder().buildAsync(
          URI.create("ws://127.0.0.1:" + port + "/registry?service=foo"), new WebSocket.Listener() {
            @Override
            public void onOpen(WebSocket ws) {
              events.add("connected");
              ws.request(Long.MAX_VALUE);
            }

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence text, boolean last) {
              events.add(text.toString());
              return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
              events.add("close " + code);
              return null;
            }
          }).get(10, TimeUnit.SECONDS);
      assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("connected");
      String seen = null;
      for (int i = 1; i <= 100 && seen == null; i++) {
        http.send(HttpRequest.newBuilder(URI.create(base + "/registry")).POST(HttpRequest.BodyPublishers.ofString(probe(i)))
            .build(), HttpResponse.BodyHandlers.discarding());
        seen = events.poll(100, TimeUnit.MILLISECONDS);
      }
      assertThat(seen).contains("probe-");
      events.clear();

      // calls in flight at the app when the signal lands
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/rpc"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(
                "{\"service\":\"go.micro.srv.slow\",\"method\":\"Slow.Call\",\"request\":{\"name\":\"in-flight\"}}"))
            .build(), HttpResponse.BodyHandlers.ofString()));
      }
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> slow.calls() == 10);

      long signalled = System.nanoTime();
      assertThat(p.toHandle().destroy()).isTrue();

      // first the app's deregistration, then (after the delay) the WebSocket close with 1001
      assertThat(events.poll(10, TimeUnit.SECONDS)).startsWith("{\"Action\":\"delete\"").contains("\"id\":\"foo-");
      // during the delay the sidecar still serves, and says it is not ready
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(503);
      assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("close 1001");

      for (var call : calls) {
        HttpResponse<String> r = call.get(15, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as("an in-flight call finishes").isEqualTo(200);
        assertThat(r.body()).contains("Hello in-flight");
      }
      assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - signalled)).as("within the grace")
          .isLessThan(Duration.ofSeconds(10));
      assertThat(p.exitValue()).isEqualTo(143);
      watch.abort();
    }
  }

  private static String probe(int i) {
    return "{\"name\":\"foo\",\"nodes\":[{\"id\":\"probe-" + i + "\"}]}";
  }

  @Test
  void theOriginalsLaunchLineStarts() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Process p = micro("--register_ttl=30", "--register_interval=15", "--sidecar_address=127.0.0.1:" + port,
        "--server_name=x", "--selector=cache", "sidecar");
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    List<String> seen = new ArrayList<>();
    assertThat(awaitListening(p, lines, seen)).isEqualTo(port);
    assertThat(seen).anyMatch(l -> l.equals("micro: ignoring flags of the original micro that mean nothing here: "
        + "--server_name, --selector"));
    p.destroy();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void onlyOneOfServerNameAndAddressExitsNonZeroWithOneLine() throws Exception {
    Process p = micro("sidecar", "--server_name=foo");
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out.strip()).isEqualTo(
        "micro: --server_name is set but --server_address is not (expected: both, or neither) (see 'micro sidecar --help')");
  }

  @Test
  void aPortInUseIsAClearErrorNotAHang() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Process p = micro("sidecar", "--address=127.0.0.1:" + taken.getLocalPort());
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).isEqualTo(1);
      assertThat(out).contains("micro: ").contains(Integer.toString(taken.getLocalPort()));
    }
  }

}
