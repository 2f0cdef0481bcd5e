package io.micro.sidecar.server.http;

import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.text.Shown;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.internal.EmptyArrays;
import java.nio.charset.StandardCharsets;
import reactor.core.Disposable;

/**
 * {@code POST /broker?topic=} on the {@link DirectPath}: the same publish and answers as
 * {@link BrokerHandler}, without reactor-netty's server in between. A publisher's round trip is most of
 * a broker message's latency.
 */
final class DirectPublish extends DirectExchange {

  private final String topic;
  private Disposable publish;

  DirectPublish(DirectPath path, ChannelHandlerContext ctx, DirectHandler handler, HttpRequest req, boolean keepAlive,
                int length, long start, String topic) {
    super(path, ctx, handler, req, keepAlive, length, start);
    this.topic = topic;
  }

  @Override
  void dispatch(byte[] body) {
    publish = path.broker.publish(topic, new Message(BrokerHandler.header(headers), body))
        .subscribe(null, this::failed, () -> answer(HttpResponseStatus.OK, null, EmptyArrays.EMPTY_BYTES, false));
  }

  private void failed(Throwable e) {
    BrokerHandler.failed(topic, e);
    answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
        (Shown.line(e.getMessage()) + "\n").getBytes(StandardCharsets.UTF_8), false);
  }

  @Override
  void cancel() {
    if (publish != null) {
      publish.dispose();
    }
  }
}
