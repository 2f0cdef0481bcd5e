package io.micro.sidecar.server.http;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.broker.HttpBroker;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.health.ProbeResult;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.client.Balancer;
import io.micro.sidecar.core.rpc.RpcClient;
import io.micro.sidecar.core.text.Shown;
import io.micro.sidecar.server.websocket.FanOut;
import io.micro.sidecar.server.websocket.Sessions;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** The route table: maps a path to the handler of that resource and does nothing else. */
public final class Routes implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

  private final RegistryHandler registry;
  private final RpcHandler rpc;
  private final BrokerHandler broker;
  private final HealthHandler health;
  private final CatchAllRpcHandler catchAllRpc;
  private final ProxyHandler proxy;
  /** {@code /_sub}, only under {@code --broker=http}. */
  private final PeerDeliveryHandler peers;

  /**
   * @param appHealth a fresh probe of the attached app, when there is one
   * @param ready     false once shutdown has begun
   */
  public Routes(SidecarConfig config, Registry registry, Broker broker, RpcClient client, Balancer balancer,
                AppConnections connections, Optional<? extends Supplier<Mono<ProbeResult>>> appHealth,
                Sessions sessions, BooleanSupplier ready, BufferBudget budget,
                FanOut fanOut) {
    Bodies bodies = new Bodies(config.maxBodyBytes(), budget);
    this.registry = new RegistryHandler(registry, bodies, budget, sessions);
    this.rpc = new RpcHandler(client, bodies, budget);
    this.broker = new BrokerHandler(broker, bodies, sessions, fanOut);
    this.health = new HealthHandler(appHealth.map(p -> p), ready);
    this.peers = broker instanceof HttpBroker http
        ? new PeerDeliveryHandler(http, bodies) : null;
    this.catchAllRpc = config.handler() == SidecarConfig.Handler.RPC
        ? new CatchAllRpcHandler(client, config.namespace(), bodies, budget) : null;
    this.proxy = config.handler() == SidecarConfig.Handler.PROXY
        ? new ProxyHandler(connections, balancer, config.namespace(), config.client().requestTimeout(), sessions) : null;
  }

  @Override
  public Publisher<Void> apply(HttpServerRequest req, HttpServerResponse res) {
    QueryStringDecoder uri = new QueryStringDecoder(req.uri());
    String path;
    try {
      path = uri.path();
      uri.parameters();
    } catch (IllegalArgumentException e) {
      return Responses.text(res, HttpResponseStatus.BAD_REQUEST, "invalid URL: " + Shown.line(e.getMessage()));
    }
    // /stats and /metrics, when served, are answered in front of this table (Telemetry.endpoints)
    return switch (Route.of(path, false, false)) {
      case REGISTRY -> registry.handle(req, res, uri);
      case RPC -> rpc.handle(req, res);
      case BROKER -> broker.handle(req, res, uri);
      case HEALTH -> health.app(res);
      case LIVE -> health.live(res);
      case READY -> health.ready(res);
      case PEERS -> peers != null ? peers.handle(req, res, uri)
          : Responses.text(res, HttpResponseStatus.NOT_FOUND, "404 page not found");
      case ROOT -> Responses.text(res, HttpResponseStatus.NOT_FOUND, "404 page not found");
      case STATS, METRICS, CATCH_ALL -> proxy != null ? proxy.handle(req, res, path)
          : catchAllRpc.handle(req, res, uri.rawPath());
    };
  }

  /** A query parameter's first value, as Go's {@code FormValue} reads it; null when missing or empty. */
  static String param(QueryStringDecoder uri, String name) {
    List<String> values = uri.parameters().get(name);
    return values == null || values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
  }
}
