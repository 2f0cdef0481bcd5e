package io.micro.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
          System.out.println("[sidecar] " + line);
        }
      } catch (java.io.IOException ignored) {
        // the process ended
      }
      lines.add(EOF);
    }, "sidecar-output");
    reader.setDaemon(true);
    reader.start();
    List<String> seen = new ArrayList<>();
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
    WebsocketSender ws = reactor.netty.http.client.HttpClient.create().websocket();
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
      String probe = "{\"name\":\"foo\",\"nodes\":[{\"id\":\"probe\"}]}";
      String seen = null;
      for (int i = 0; i < 100 && seen == null; i++) {
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/registry"))
            .POST(HttpRequest.BodyPublishers.ofString(probe)).build(), HttpResponse.BodyHandlers.discarding());
        seen = frames.poll(100, TimeUnit.MILLISECONDS);
      }
      assertThat(seen).as("the watch works").contains("\"id\":\"probe\"");
      http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/registry"))
          .method("DELETE", HttpRequest.BodyPublishers.ofString(probe)).build(), HttpResponse.BodyHandlers.discarding());
      assertThat(frames.poll(10, TimeUnit.SECONDS)).startsWith("{\"Action\":\"delete\"").contains("\"id\":\"probe\"");
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
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Process p = micro("sidecar", "--address=127.0.0.1:" + taken.getLocalPort());
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).isEqualTo(1);
      assertThat(out).contains("micro: ").contains(Integer.toString(taken.getLocalPort()));
    }
  }

}
