package io.micro.sidecar.core.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Real {@code etcd} processes (Debian's etcd-server) on free loopback ports with temporary data
 * directories: one member or several. Members can be stopped, killed and started again on the same
 * ports and data. jetcd's own launcher needs Docker, which these machines do not have.
 */
public final class EtcdCluster implements AutoCloseable {

  private final Path dir;
  private final List<Member> members = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private EtcdCluster(int size) throws IOException {
    this.dir = Files.createTempDirectory("etcd-test");
    for (int i = 0; i < size; i++) {
      members.add(new Member("m" + i, freePort(), freePort()));
    }
  }

  /** Starts {@code size} members and waits until every one reports healthy. */
  public static EtcdCluster start(int size) {
    try {
      EtcdCluster c = new EtcdCluster(size);
      for (Member m : c.members) {
        m.start(c, true);
      }
      for (Member m : c.members) {
        c.awaitHealthy(m);
      }
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Client endpoints as {@code 127.0.0.1:port}, comma-free list. */
  public List<String> endpoints() {
    return members.stream().map(m -> "127.0.0.1:" + m.clientPort).toList();
  }

  public String endpoint(int member) {
    return "127.0.0.1:" + members.get(member).clientPort;
  }

  /** SIGTERM, and wait for the member to exit. */
  public void stop(int member) {
    members.get(member).halt(false);
  }

  /** SIGKILL, as a crash. */
  public void kill(int member) {
    members.get(member).halt(true);
  }

  /** Starts a stopped member again on its ports and data, and waits for it to be healthy. */
  public void restart(int member) {
    try {
      Member m = members.get(member);
      m.start(this, false);
      awaitHealthy(m);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs etcdctl against every running member; returns its output or throws with it. */
  public String etcdctl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints=" + String.join(",", endpoints()),
        "--command-timeout=5s"));
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("ETCDCTL_API", "3");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("etcdctl " + String.join(" ", args) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (Member m : members) {
      m.halt(true);
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }

  private String initialCluster() {
    return members.stream().map(m -> m.name + "=http://127.0.0.1:" + m.peerPort).collect(Collectors.joining(","));
  }

  private void awaitHealthy(Member m) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String last = "";
    while (System.nanoTime() < deadline) {
      if (!m.process.isAlive()) {
        throw new IllegalStateException("etcd " + m.name + " exited: " + m.log());
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + m.clientPort + "/health")).timeout(Duration.ofSeconds(1)).build(),
            HttpResponse.BodyHandlers.ofString());
        last = r.body();
        if (r.statusCode() == 200 && r.body().contains("\"true\"")) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // polling a starting process
    }
    throw new IllegalStateException("etcd " + m.name + " not healthy in 30s: " + last + "\n" + m.log());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  private final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    Process process;

    Member(String name, int clientPort, int peerPort) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
    }

    void start(EtcdCluster c, boolean fresh) throws IOException {
      Path data = dir.resolve(name);
      List<String> cmd = List.of("etcd",
          "--name=" + name,
          "--data-dir=" + data,
          "--listen-client-urls=http://127.0.0.1:" + clientPort,
          "--advertise-client-urls=http://127.0.0.1:" + clientPort,
          "--listen-peer-urls=http://127.0.0.1:" + peerPort,
          "--initial-advertise-peer-urls=http://127.0.0.1:" + peerPort,
          "--initial-cluster=" + c.initialCluster(),
          "--initial-cluster-state=" + (fresh ? "new" : "existing"),
          "--initial-cluster-token=sidecar-test",
          "--heartbeat-interval=50",
          "--election-timeout=500",
          "--log-level=warn");
      process = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile()))
          .start();
    }

    void halt(boolean kill) {
      if (process == null || !process.isAlive()) {
        return;
      }
      if (kill) {
        process.toHandle().destroyForcibly();
      } else {
        process.toHandle().destroy();
      }
      try {
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
          process.toHandle().destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    String log() {
      try {
        List<String> lines = Files.readAllLines(dir.resolve(name + ".log"));
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
      } catch (IOException e) {
        return "(no log)";
      }
    }
  }

}
