package io.micro.sidecar.server.websocket;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.text.Shown;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A broker subscription over a WebSocket (contract §7): every message on the topic goes out as one
 * text frame {@code {"Header":{..},"Body":"<base64>"}}, and every text or binary message the client
 * sends is published to the topic with the upgrade request's Content-Type (or {@code text/plain}).
 *
 * <ul>
 *   <li>The subscription joins the topic before the first inbound frame is published, so a client
 *       receives what it publishes itself.</li>
 *   <li>Messages larger than {@code maxFrameBytes} (fragments aggregated) close the connection with
 *       1009, frames with reserved bits set with 1002, text messages that are not UTF-8 with 1007
 *       (RFC 6455 §5.2, §8.1); pongs are read and dropped. A subscriber past its pending bytes under the CLOSE policy (or the largest when all together pass theirs) is closed with 1013; a peer that does
 *       not read even that is cut off after {@link #CLOSE_TIMEOUT}. Closing the broker closes with 1001.</li>
 *   <li>A ping goes out every {@code pingEvery} so idle connections survive proxies and NATs; the
 *       client's pongs are discarded.</li>
 * </ul>
 *
 * <p>Threading: publishing happens on the connection's event loop; the broker hands each message to
 * {@link FanOut}, which encodes it once and writes it on this connection's event loop, batched with
 * the other deliveries for that loop. Nothing blocks. What this subscriber may hold queued for its
 * socket is bounded in bytes ({@code --broker_pending_bytes}); past it, it is closed with 1013 or loses
 * its oldest ({@code --broker_overflow}).
 */
public final class BrokerSocketHandler {

  private static final Logger log = LoggerFactory.getLogger(BrokerSocketHandler.class);

  public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024;
  public static final Duration DEFAULT_PING_EVERY = Duration.ofSeconds(30);
  /** How long a close frame may wait behind unread data before the connection is cut. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private final Broker broker;
  private final Sessions sessions;
  private final FanOut fanOut;
  private final int maxFrameBytes;
  private final Duration pingEvery;
  private final WebsocketServerSpec spec;

  public BrokerSocketHandler(Broker broker, Sessions sessions, FanOut fanOut) {
    this(broker, sessions, fanOut, DEFAULT_MAX_FRAME_BYTES, DEFAULT_PING_EVERY);
  }

  public BrokerSocketHandler(Broker broker, Sessions sessions, FanOut fanOut, int maxFrameBytes, Duration pingEvery) {
    this.broker = broker;
    this.sessions = sessions;
    this.fanOut = fanOut;
    this.maxFrameBytes = maxFrameBytes;
    this.pingEvery = pingEvery;
    this.spec = WebsocketServerSpec.builder().maxFramePayloadLength(maxFrameBytes).build();
  }

  /**
   * Upgrades and serves the connection until either side closes.
   *
   * @param contentType the upgrade request's Content-Type, or null
   * @param queue       the queue group, or null
   */
  public Mono<Void> handle(HttpServerResponse res, String topic, String queue, String contentType) {
    Map<String, String> header = Map.of("Content-Type",
        contentType == null || contentType.isEmpty() ? "text/plain" : contentType);
    return res.sendWebsocket((in, out) -> sessions.track(in, out, Mono.defer(() -> serve(in, out, topic, queue, header))), spec);
  }

  private Mono<Void> serve(WebsocketInbound in, WebsocketOutbound out, String topic, String queue,
                           Map<String, String> header) {
    Channel[] channel = new Channel[1];
    in.withConnection(c -> channel[0] = c.channel());
    FanOut.Subscriber subscriber = fanOut.subscriber(channel[0], pingEvery);
    // joins before reading publishes anything, so a client receives what it publishes itself
    try {
      subscriber.attached(broker.attach(topic, queue, subscriber));
    } catch (RuntimeException e) {
      subscriber.gone();
      return Mono.error(e);
    }
    Mono<Void> writing = subscriber.ended()
        .flatMap(code -> code == WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code()
            // the broker closed (the sidecar is stopping)
            ? out.sendClose(code, "sidecar stopping")
            : close(in, out, WebSocketCloseStatus.TRY_AGAIN_LATER.code(), "subscriber fell behind; messages were lost"));
    Mono<Void> reading = in.aggregateFrames(maxFrameBytes)
        .receiveFrames()
        // Each frame is read (and a message's bytes copied) while reactor-netty still holds it; it releases
        // the frame after this returns. No frame may be filtered out here: a dropped frame is discarded,
        // which releases it, and reactor-netty's own release would then fail and kill the connection.
        .map(f -> inbound(f, header))
        // a forbidden frame is answered with its close before reading stops: stopping first would make
        // reactor-netty send a close of its own, without a status
        .concatMap(m -> m instanceof Message message ? broker.publish(topic, message)
            : m instanceof WebSocketCloseStatus refused
                ? close(in, out, refused.code(), refused.reasonText()).then(Mono.error(new Refused()))
                : Mono.empty())
        .then()
        .onErrorResume(e -> e instanceof TooLongFrameException
                || (e instanceof CorruptedWebSocketFrameException c && c.closeStatus().code() == 1009),
            e -> close(in, out, WebSocketCloseStatus.MESSAGE_TOO_BIG.code(), "message larger than " + maxFrameBytes + " bytes"))
        .onErrorResume(CorruptedWebSocketFrameException.class,
            e -> close(in, out, e.closeStatus().code(), Shown.line(e.getMessage())))
        .onErrorResume(Refused.class, e -> Mono.empty())
        .doFinally(signal -> subscriber.gone());
    return Mono.when(writing, reading)
        .doFinally(signal -> subscriber.gone())
        .onErrorResume(e -> {
          log.debug("broker socket on topic {} ended: {}", topic, e.toString());
          return Mono.empty();
        });
  }

  /**
   * What a client frame means: a message to publish, a close status for a frame RFC 6455 forbids
   * (reserved bits without a negotiated extension: 1002; a text message that is not UTF-8: 1007), or
   * nothing (a token, for pongs and the like).
   */
  private static Object inbound(WebSocketFrame f, Map<String, String> header) {
    if (f.rsv() != 0) {
      return new WebSocketCloseStatus(WebSocketCloseStatus.PROTOCOL_ERROR.code(), "reserved bits set (no extension was negotiated)");
    }
    if (f instanceof TextWebSocketFrame || f instanceof BinaryWebSocketFrame) {
      // copied first, then checked on the copy: one read of the frame's buffer, not one per byte
      byte[] body = ByteBufUtil.getBytes(f.content());
      if (f instanceof TextWebSocketFrame && !ByteBufUtil.isText(Unpooled.wrappedBuffer(body), StandardCharsets.UTF_8)) {
        return new WebSocketCloseStatus(WebSocketCloseStatus.INVALID_PAYLOAD_DATA.code(), "text message is not valid UTF-8");
      }
      return new Message(header, body);
    }
    return Boolean.FALSE;
  }

  /** Ends reading after a forbidden frame, once its close has been sent. */
  private static final class Refused extends RuntimeException {
    Refused() {
      super("frame refused", null, false, false);
    }
  }

  /** Sends a close frame, and cuts the connection if the peer does not take it in time. */
  private static Mono<Void> close(WebsocketInbound in, WebsocketOutbound out, int code, String reason) {
    return out.sendClose(code, reason)
        .timeout(CLOSE_TIMEOUT, Mono.fromRunnable(() -> in.withConnection(Connection::dispose)));
  }

}
