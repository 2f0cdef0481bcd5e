package io.micro.sidecar.server.http;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.client.Balancer;
import io.micro.sidecar.core.client.KeepAlive;
import io.micro.sidecar.core.client.LoopClient;
import io.micro.sidecar.core.rpc.PathMapper;
import io.micro.sidecar.core.rpc.RpcClient;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import reactor.netty.ChannelPipelineConfigurer;
import reactor.netty.ConnectionObserver;
import reactor.netty.NettyPipeline;

/**
 * The hot routes ({@code /rpc}, the catch-all, rpc or proxy, and {@code POST /broker}) served with Netty channels on the event loop that
 * received them, beside reactor-netty rather than through it: reactor-netty's per-request machinery
 * (its operations object, the receive and send publishers, a flush per part) costs several times what
 * the rest of a call does. reactor-netty still owns the server, the event loops and every other route.
 *
 * <p>A {@link DirectHandler} sits in each connection's pipeline just before reactor-netty's HTTP
 * handler. It takes a request only in the common case, decided from its head: HTTP/1.1, a hot route, a
 * body with a {@code Content-Length} up to {@link #INLINE_BODY} (read whole into one array), the guard
 * letting it through unchanged, room in the {@link BufferBudget}, the connection idle and the sidecar
 * not draining. Everything else (chunked bodies, {@code Expect}, upgrades, a refusal the guard would
 * answer, a connection with a reactor-netty answer still pending) goes on to reactor-netty untouched,
 * which answers it exactly as before. So the two paths never disagree on an edge case: the direct one
 * has none of its own.
 *
 * <p>The answer goes out in one write and one flush (a proxied answer larger than one read streams,
 * pausing the app while the client is slow); the call to the app runs on the same loop over that loop's
 * own connections ({@link LoopClient}). Every exchange is recorded
 * once, like any other request. Shared by all connections; thread-safe.
 */
public final class DirectPath implements ChannelPipelineConfigurer {

  /** Bodies up to this many bytes are read whole and sent on with their head in one write. */
  static final int INLINE_BODY = 64 * 1024;

  /** Catch-all paths whose mapping is remembered. */
  private static final int ROUTES = 1024;

  final Guard guard;
  final ExchangeRecorder recorder;
  final BufferBudget budget;
  final RpcClient client;
  final Balancer balancer;
  final Broker broker;
  final LoopClient loopClient;
  final CallObserver observer;
  /** The proxy's deadline for an answer's head once the request is sent. */
  final Duration deadline;
  private final String namespace;
  private final boolean catchAllRpc;
  private final int maxBody;
  private final boolean stats;
  private final boolean metrics;
  private final BooleanSupplier draining;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** The catch-all's raw paths mapped to service and method: most clients call few paths, many times. */
  private final Map<String, PathMapper.Route> routes = new ConcurrentHashMap<>();

  /**
   * @param draining true once shutdown drains connections: from then on reactor-netty answers every
   *                 request, with {@code Connection: close}
   */
  public DirectPath(SidecarConfig config, Guard guard, ExchangeRecorder recorder, BufferBudget budget, RpcClient client,
                    Balancer balancer, AppConnections connections, Broker broker, BooleanSupplier draining) {
    this.guard = guard;
    this.recorder = recorder;
    this.budget = budget;
    this.client = client;
    this.balancer = balancer;
    this.broker = broker;
    this.loopClient = connections.calls();
    this.observer = connections.observer();
    this.deadline = config.client().requestTimeout();
    this.namespace = config.namespace();
    this.catchAllRpc = config.handler() == SidecarConfig.Handler.RPC;
    this.maxBody = (int) Math.min(INLINE_BODY, config.maxBodyBytes());
    this.stats = config.observability().stats();
    this.metrics = config.observability().metrics();
    this.draining = draining;
  }

  @Override
  public void onChannelInit(ConnectionObserver observer, Channel channel, SocketAddress remote) {
    if (channel.pipeline().get(NettyPipeline.HttpTrafficHandler) != null) {
      channel.pipeline().addBefore(NettyPipeline.HttpTrafficHandler, "sidecar.direct", new DirectHandler(this));
    }
  }

  /** Requests taken and not yet answered, over every connection: shutdown waits for them. */
  public int inFlight() {
    return inFlight.get();
  }

  boolean draining() {
    return draining.getAsBoolean();
  }

  /**
   * The exchange that serves {@code req} on this path, or null to leave it to reactor-netty. Decided
   * from the head alone; a request taken has its body reserved in the budget and the token removed.
   */
  DirectExchange take(ChannelHandlerContext ctx, DirectHandler handler, HttpRequest req) {
    if (draining.getAsBoolean() || !req.protocolVersion().equals(HttpVersion.HTTP_1_1)
        || req.decoderResult().isFailure()) {
      return null;
    }
    String uri = req.uri();
    int query = uri.indexOf('?');
    String path = query < 0 ? uri : uri.substring(0, query);
    if (!path.startsWith("/") || path.indexOf('%') >= 0) {
      // percent-encoded paths are matched after decoding by reactor-netty's side: left to it
      return null;
    }
    // of the route table, POST /broker, /rpc and the catch-all are served here; the rest by reactor-netty
    Route route = Route.of(path, stats, metrics);
    if (route == Route.BROKER) {
      return publish(ctx, handler, req, uri);
    }
    if (route != Route.RPC && route != Route.CATCH_ALL) {
      return null;
    }
    boolean rpc = route == Route.RPC;
    HttpHeaders headers = req.headers();
    if (!rpc && !catchAllRpc) {
      String service = ProxyHandler.service(namespace, path);
      if (service == null || req.method().equals(HttpMethod.CONNECT)) {
        return null;
      }
      int length = admit(req, uri, headers);
      return length < 0 ? null : new DirectProxy(this, ctx, handler, req, KeepAlive.of(req), length,
          recorder.begin(headers), service);
    }
    String media = rpc ? null : CatchAllRpcHandler.media(headers);
    if (!req.method().equals(HttpMethod.POST) || (!rpc && media == null)) {
      return null;
    }
    int length = admit(req, uri, headers);
    return length < 0 ? null : new DirectRpc(this, ctx, handler, req, KeepAlive.of(req), length,
        recorder.begin(headers), rpc ? null : path, media);
  }

  /** A publish with a valid topic (and queue, when given); anything else is answered by {@link BrokerHandler}. */
  private DirectExchange publish(ChannelHandlerContext ctx, DirectHandler handler, HttpRequest req, String uri) {
    if (!req.method().equals(HttpMethod.POST)) {
      return null;
    }
    QueryStringDecoder query = new QueryStringDecoder(uri);
    String topic;
    String queue;
    try {
      topic = Routes.param(query, "topic");
      queue = Routes.param(query, "queue");
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (!Broker.validTopic(topic) || (queue != null && !Broker.validTopic(queue))) {
      return null;
    }
    int length = admit(req, uri, req.headers());
    return length < 0 ? null : new DirectPublish(this, ctx, handler, req, KeepAlive.of(req), length,
        recorder.begin(req.headers()), topic);
  }

  /**
   * The body's length once it is reserved in the budget and the guard let the request through
   * (counting it in flight); -1, with nothing reserved, when the request is not for this path.
   */
  private int admit(HttpRequest req, String uri, HttpHeaders headers) {
    int length = length(headers);
    if (length < 0 || !budget.tryReserve(length)) {
      return -1;
    }
    if (!guard.admit(req.method(), uri, headers)) {
      budget.release(length);
      return -1;
    }
    inFlight.incrementAndGet();
    return length;
  }

  /** The declared body length when it may be read whole here; -1 when it may not (chunked, too large, Expect). */
  private int length(HttpHeaders headers) {
    if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING) || headers.contains(HttpHeaderNames.EXPECT)) {
      return -1;
    }
    String value = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (value == null) {
      return 0;
    }
    try {
      long n = Long.parseLong(value.trim());
      return n >= 0 && n <= maxBody ? (int) n : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * The service and method the catch-all calls for {@code rawPath}, mapped once and remembered (up to
   * {@link #ROUTES} paths; past that, mapped each time).
   *
   * @throws io.micro.sidecar.core.rpc.RpcException 400 for a path that maps to no call
   */
  PathMapper.Route route(String rawPath) {
    PathMapper.Route route = routes.get(rawPath);
    if (route == null) {
      route = PathMapper.map(namespace, CatchAllRpcHandler.decode(rawPath));
      if (routes.size() < ROUTES) {
        routes.put(rawPath, route);
      }
    }
    return route;
  }

  void ended() {
    inFlight.decrementAndGet();
  }
}
