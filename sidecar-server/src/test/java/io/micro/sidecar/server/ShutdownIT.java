package io.micro.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.config.LifecycleConfig;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.TestSidecars;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Shutdown as a busy keep-alive client sees it: every request it sends is answered, some with
 * {@code Connection: close}, after which it reconnects; once the sidecar stops accepting, a connect is
 * refused, which a client can tell from a lost request.
 */
class ShutdownIT {

  private static final String BODY = "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"k\"}}";
  private static final byte[] REQUEST = ("POST /rpc HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
      + "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY).getBytes(StandardCharsets.ISO_8859_1);

  @Test
  void keepAliveClientsBusyThroughShutdownLoseNoRequest() throws Exception {
    JsonRpcApp app = JsonRpcApp.start("example-1");
    Sidecar sidecar = Sidecar.start(TestSidecars.local()
        .withLifecycle(new LifecycleConfig(Duration.ofSeconds(15), Duration.ofMillis(300), Duration.ofSeconds(10))));
    try {
      sidecar.registry().register(new Service("go.micro.srv.example", "", null, null, List.of(app.node())), Registry.NO_TTL)
          .block(Duration.ofSeconds(5));
      AtomicInteger answered = new AtomicInteger();
      AtomicInteger toldToClose = new AtomicInteger();
      ConcurrentLinkedQueue<String> lost = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
      List<Thread> clients = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Thread t = new Thread(() -> busyClient(sidecar.port(), answered, toldToClose, lost, wrong), "client-" + i);
        t.start();
        clients.add(t);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> answered.get() >= 400);
      sidecar.close();
      for (Thread t : clients) {
        t.join(20_000);
        assertThat(t.isAlive()).as("%s stopped once the sidecar was gone", t.getName()).isFalse();
      }
      assertThat(lost).as("requests sent and never answered").isEmpty();
      assertThat(wrong).as("answers other than 200").isEmpty();
      assertThat(toldToClose.get()).as("answers that told the client to reconnect").isPositive();
    } finally {
      sidecar.close();
      app.close();
    }
  }

  /** Sends requests back to back on a keep-alive connection, reconnecting when told to, until connects are refused. */
  private static void busyClient(int port, AtomicInteger answered, AtomicInteger toldToClose,
                                 ConcurrentLinkedQueue<String> lost, ConcurrentLinkedQueue<String> wrong) {
    while (true) {
      Socket s;
      try {
        s = new Socket("127.0.0.1", port);
        s.setSoTimeout(15_000);
      } catch (ConnectException e) {
        return;
      } catch (IOException e) {
        lost.add("connect: " + e);
        return;
      }
      try (s) {
        boolean keepAlive = true;
        for (int n = 0; keepAlive; n++) {
          try {
            s.getOutputStream().write(REQUEST);
            s.getOutputStream().flush();
          } catch (IOException e) {
            lost.add("request " + n + " on its connection could not be sent: " + e);
            break;
          }
          String head;
          try {
            head = readAnswer(s.getInputStream());
          } catch (IOException e) {
            lost.add("request " + n + " on its connection got no answer: " + e);
            break;
          }
          answered.incrementAndGet();
          if (!head.startsWith("HTTP/1.1 200 ")) {
            wrong.add(head.lines().findFirst().orElse(head));
          }
          if (head.toLowerCase(Locale.ROOT).contains("\r\nconnection: close")) {
            toldToClose.incrementAndGet();
            keepAlive = false;
          }
        }
      } catch (IOException e) {
        lost.add("close: " + e);
      }
    }
  }

  /** Reads one answer (head and Content-Length body) and returns its head; EOF before its end is an IOException. */
  private static String readAnswer(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("end of stream after " + head.size() + " bytes of the answer");
      }
      head.write(b);
      matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    String lower = text.toLowerCase(Locale.ROOT);
    int at = lower.indexOf("content-length:");
    int length = Integer.parseInt(lower.substring(at + 15, lower.indexOf('\r', at)).trim());
    if (in.readNBytes(length).length < length) {
      throw new IOException("end of stream inside the body");
    }
    return text;
  }
}
