package io.micro.sidecar.server.http;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Registry;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** The route table: maps a path to the handler of that resource and does nothing else. */
public final class Routes implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

  private final RegistryHandler registry;
  private final BrokerHandler broker;

  public Routes(Registry registry, Broker broker, SidecarConfig config) {
    this.registry = new RegistryHandler(registry, config.maxBodyBytes());
    this.broker = new BrokerHandler(broker, config.maxBodyBytes());
  }

  @Override
  public Publisher<Void> apply(HttpServerRequest req, HttpServerResponse res) {
    QueryStringDecoder uri = new QueryStringDecoder(req.uri());
    return switch (uri.path()) {
      case "/registry" -> registry.handle(req, res, uri);
      case "/broker" -> broker.handle(req, res, uri);
      default -> Responses.text(res, HttpResponseStatus.NOT_FOUND, "404 page not found");
    };
  }
}
