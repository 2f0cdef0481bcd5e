package io.micro.sidecar.server.websocket;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.broker.MessageCodec;
import io.micro.sidecar.core.broker.SlowSubscriberException;
import io.micro.sidecar.server.http.Responses;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
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
 *       (RFC 6455 §5.2, §8.1); pongs are read and dropped. A subscriber that overflows under the CLOSE policy is closed with 1013; a peer that does
 *       not read even that is cut off after {@link #CLOSE_TIMEOUT}. Closing the broker closes with 1001.</li>
 *   <li>A ping goes out every {@code pingEvery} so idle connections survive proxies and NATs; the
 *       client's pongs are discarded.</li>
 * </ul>
 *
 * <p>Threading: publishing happens on the connection's event loop; the broker delivers on the
 * publisher's thread and reactor-netty's send hops to this connection's event loop. Nothing blocks.
 * Each frame's JSON is encoded once per message, not once per subscriber, while subscribers of one
 * publish are served in a row.
 */
public final class BrokerSocketHandler {

  private static final Logger log = LoggerFactory.getLogger(BrokerSocketHandler.class);

  public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024;
  public static final Duration DEFAULT_PING_EVERY = Duration.ofSeconds(30);
  /** How long a close frame may wait behind unread data before the connection is cut. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
  /** Stands for a ping among the messages; compared by identity. */
  private static final Message PING = new Message(Map.of(), new byte[0]);

  private final Broker broker;
  private final Sessions sessions;
  private final int maxFrameBytes;
  private final Duration pingEvery;
  private final WebsocketServerSpec spec;
  /**
   * Each message's JSON, encoded once however many subscribers and topics are being delivered at the
   * same time: keyed by the message instance (weak keys compare by identity), bounded.
   */
  private final com.github.benmanes.caffeine.cache.Cache<Message, byte[]> encoded =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder().weakKeys().maximumSize(1024)
          .executor(Runnable::run).build();

  public BrokerSocketHandler(Broker broker, Sessions sessions) {
    this(broker, sessions, DEFAULT_MAX_FRAME_BYTES, DEFAULT_PING_EVERY);
  }

  public BrokerSocketHandler(Broker broker, Sessions sessions, int maxFrameBytes, Duration pingEvery) {
    this.broker = broker;
    this.sessions = sessions;
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
    return res.sendWebsocket((in, out) -> sessions.track(in, out, serve(in, out, topic, queue, header)), spec);
  }

  private Mono<Void> serve(WebsocketInbound in, WebsocketOutbound out, String topic, String queue,
                           Map<String, String> header) {
    Sinks.Empty<Void> gone = Sinks.empty();
    Sinks.Empty<Void> unsubscribed = Sinks.empty();
    Flux<WebSocketFrame> frames = Flux.merge(
            broker.subscribe(topic, queue).doFinally(signal -> unsubscribed.tryEmitEmpty()),
            // pings stop with the subscription, so the broker closing completes the merge
            Flux.interval(pingEvery).onBackpressureDrop().map(tick -> PING).takeUntilOther(unsubscribed.asMono()))
        .map(this::frame)
        .takeUntilOther(gone.asMono());
    Mono<Void> writing = out.sendObject(frames).then()
        // Completing without the client leaving means the broker closed (the sidecar is stopping);
        // if the client left, reactor-netty has already answered its close and this does nothing.
        .then(Mono.defer(() -> out.sendClose(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "sidecar stopping")))
        .onErrorResume(SlowSubscriberException.class, e -> close(in, out, WebSocketCloseStatus.TRY_AGAIN_LATER.code(),
            "subscriber fell behind; messages were lost"));
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
            e -> close(in, out, e.closeStatus().code(), Responses.oneLine(e.getMessage())))
        .onErrorResume(Refused.class, e -> Mono.empty())
        .doFinally(signal -> gone.tryEmitEmpty());
    // Writing first: it joins the topic before reading publishes anything.
    return Mono.when(writing, reading)
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
    if (f instanceof TextWebSocketFrame && !ByteBufUtil.isText(f.content(), StandardCharsets.UTF_8)) {
      return new WebSocketCloseStatus(WebSocketCloseStatus.INVALID_PAYLOAD_DATA.code(), "text message is not valid UTF-8");
    }
    if (f instanceof TextWebSocketFrame || f instanceof BinaryWebSocketFrame) {
      return new Message(header, ByteBufUtil.getBytes(f.content()));
    }
    return Boolean.FALSE;
  }

  /** Ends reading after a forbidden frame, once its close has been sent. */
  private static final class Refused extends RuntimeException {
    Refused() {
      super("frame refused", null, false, false);
    }
  }

  private WebSocketFrame frame(Message m) {
    if (m == PING) {
      return new PingWebSocketFrame();
    }
    // Each frame wraps the shared array in its own buffer; nothing writes to it.
    return new TextWebSocketFrame(Unpooled.wrappedBuffer(encoded.get(m, MessageCodec::encode)));
  }

  /** Sends a close frame, and cuts the connection if the peer does not take it in time. */
  private static Mono<Void> close(WebsocketInbound in, WebsocketOutbound out, int code, String reason) {
    return out.sendClose(code, reason)
        .timeout(CLOSE_TIMEOUT, Mono.fromRunnable(() -> in.withConnection(Connection::dispose)));
  }

}
