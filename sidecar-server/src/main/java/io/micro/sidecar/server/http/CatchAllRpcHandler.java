package io.micro.sidecar.server.http;

import io.micro.sidecar.core.rpc.MicroError;
import io.micro.sidecar.core.rpc.PathMapper;
import io.micro.sidecar.core.rpc.RpcClient;
import io.micro.sidecar.core.rpc.RpcException;
import io.micro.sidecar.core.rpc.RpcRequest;
import io.micro.sidecar.core.rpc.RpcRequestCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Locale;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The catch-all route with {@code --handler=rpc} (contract §5): the path names the service and
 * method, a JSON body is the request, the answer is the raw result.
 */
final class CatchAllRpcHandler {

  private final RpcClient client;
  private final String namespace;
  private final Bodies bodies;
  private final BufferBudget budget;

  CatchAllRpcHandler(RpcClient client, String namespace, Bodies bodies, BufferBudget budget) {
    this.budget = budget;
    this.client = client;
    this.namespace = namespace;
    this.bodies = bodies;
  }

  /**
   * @param rawPath the path as sent, still percent-encoded: an encoded slash must not become a path
   *                separator after decoding
   */
  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res, String rawPath) {
    if (!req.method().equals(HttpMethod.POST)) {
      res.header(HttpHeaderNames.ALLOW, "POST");
      return Responses.error(res, MicroError.of(MicroError.RPC_ID, 405, "method not allowed"));
    }
    String media = media(req.requestHeaders());
    if (media == null) {
      return Responses.error(res, MicroError.of(MicroError.RPC_ID, 415, "unsupported content type: '"
          + req.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE, "")
          + "' (expected: application/json, application/protobuf or application/proto)"));
    }
    boolean proto = proto(media);
    return Mono.fromSupplier(() -> PathMapper.map(namespace, decode(rawPath)))
        .flatMap(route -> bodies.read(req).map(body -> request(route, proto, body)))
        .flatMap(request -> client.call(request, req.requestHeaders(), Responses.channel(req), MicroError.API_ID))
        // a proto-rpc reply goes back as the bytes the app wrote, with the request's content type
        .flatMap(result -> budget.holding(result.length, proto ? Responses.bytes(res, media, result) : Responses.json(res, result)))
        .onErrorResume(e -> RpcHandler.answer(req, res, e));
  }

  /** The request's media type, lower case without parameters; null when it is none the route takes. */
  static String media(HttpHeaders headers) {
    String type = headers.get(HttpHeaderNames.CONTENT_TYPE, "");
    int semi = type.indexOf(';');
    String media = (semi < 0 ? type : type.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    return proto(media) || media.equals("application/json") ? media : null;
  }

  static boolean proto(String media) {
    return media.equals("application/protobuf") || media.equals("application/proto");
  }

  /** A proto-rpc body goes to the app as it is; a JSON one is the request. */
  static RpcRequest request(PathMapper.Route route, boolean proto, byte[] body) {
    return proto ? new RpcRequest(route.service(), route.method(), null, body, true)
        : RpcRequestCodec.fromBody(route.service(), route.method(), body);
  }

  /** Decodes each segment on its own; a segment that decodes to a slash, backslash or NUL is refused. */
  static String decode(String rawPath) {
    StringBuilder out = new StringBuilder(rawPath.length());
    String[] segments = rawPath.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      String part;
      try {
        part = QueryStringDecoder.decodeComponent(segments[i].replace("+", "%2B"));
      } catch (IllegalArgumentException e) {
        throw RpcException.badRequest("invalid path: bad percent-encoding");
      }
      if (part.indexOf('/') >= 0 || part.indexOf('\\') >= 0 || part.indexOf('\0') >= 0) {
        throw RpcException.badRequest("invalid path: encoded separator in a path segment");
      }
      if (i > 0) {
        out.append('/');
      }
      out.append(part);
    }
    return out.toString();
  }
}
