package io.micro.sidecar.server.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;

/** Reactor Netty's WebSocket client: records text frames and the close code, sends text on demand. */
final class NettyWebSocket implements AutoCloseable {

  final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
  /** The close code the server sent, once it closed. */
  volatile Integer closed;
  private final Sinks.Many<String> outgoing = Sinks.many().unicast().onBackpressureBuffer();
  private final Disposable connection;

  NettyWebSocket(String uri) throws InterruptedException {
    CountDownLatch connected = new CountDownLatch(1);
    connection = HttpClient.create()
        .websocket()
        .uri(uri)
        .handle((in, out) -> {
          connected.countDown();
          in.receiveCloseStatus().subscribe(s -> closed = s.code());
          return Mono.when(out.sendString(outgoing.asFlux()).then(),
              in.receive().asString().doOnNext(frames::add).then());
        })
        .subscribe();
    assertThat(connected.await(5, TimeUnit.SECONDS)).as("connected").isTrue();
  }

  /** Call from one thread at a time. */
  void send(String text) {
    outgoing.tryEmitNext(text).orThrow();
  }

  @Override
  public void close() {
    connection.dispose();
  }
}
