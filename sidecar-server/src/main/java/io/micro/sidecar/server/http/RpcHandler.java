package io.micro.sidecar.server.http;

import io.micro.sidecar.core.rpc.MicroError;
import io.micro.sidecar.core.rpc.RpcClient;
import io.micro.sidecar.core.rpc.RpcException;
import io.micro.sidecar.core.rpc.RpcRequest;
import io.micro.sidecar.core.rpc.RpcRequestCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code POST /rpc} (contract §4): {@code service}, {@code method}, {@code request} and optional
 * {@code address} as form fields (in the body or the query string, the body winning) or JSON; answers the app's {@code result} byte for byte or a micro
 * error with its code as the status.
 */
final class RpcHandler {

  private static final Logger log = LoggerFactory.getLogger(RpcHandler.class);

  private final RpcClient client;
  private final Bodies bodies;
  private final BufferBudget budget;

  RpcHandler(RpcClient client, Bodies bodies, BufferBudget budget) {
    this.budget = budget;
    this.client = client;
    this.bodies = bodies;
  }

  Mono<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    if (!req.method().equals(HttpMethod.POST)) {
      res.header(HttpHeaderNames.ALLOW, "POST");
      return Responses.error(res, MicroError.of(MicroError.RPC_ID, 405, "method not allowed"));
    }
    return bodies.read(req)
        .map(body -> parse(req.requestHeaders(), req.uri(), body))
        .flatMap(request -> client.call(request, req.requestHeaders(), Responses.channel(req), MicroError.RPC_ID))
        .flatMap(result -> budget.holding(result.length, Responses.json(res, result)))
        .onErrorResume(e -> answer(req, res, e));
  }

  /** JSON when the client says so or the body is a JSON object; form fields otherwise. */
  static RpcRequest parse(HttpHeaders headers, String uri, byte[] body) {
    String type = headers.get(HttpHeaderNames.CONTENT_TYPE, "");
    if (type.startsWith("application/json") || startsWithBrace(body)) {
      return RpcRequestCodec.fromJson(body);
    }
    // Go's ParseForm: fields may also stand in the query string; a body field wins over the same query field
    String form = new String(body, StandardCharsets.UTF_8);
    int q = uri.indexOf('?');
    String query = q < 0 ? "" : uri.substring(q + 1);
    return RpcRequestCodec.fromForm(query.isEmpty() ? form : form.isEmpty() ? query : form + "&" + query);
  }

  private static boolean startsWithBrace(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return b == '{';
      }
    }
    return false;
  }

  /** Every failure becomes a micro error; nothing leaks out as a stack trace. */
  static Mono<Void> answer(HttpServerRequest req, HttpServerResponse res, Throwable e) {
    MicroError error = error(req.method(), req.uri(), e);
    if (error == null) {
      return Mono.error(e);
    }
    if (e instanceof BufferBudget.ExhaustedException) {
      res.header(HttpHeaderNames.RETRY_AFTER, "1");
    }
    return Responses.error(res, error);
  }

  /**
   * The micro error a failed call is answered with, on either path; null when the client has gone and
   * there is no one to answer. A budget refusal (503) goes out with {@code Retry-After: 1}.
   */
  static MicroError error(HttpMethod method, String uri, Throwable e) {
    if (e instanceof RpcException rpc) {
      return rpc.error();
    }
    if (e instanceof Bodies.BodyTooLargeException) {
      return MicroError.of(MicroError.RPC_ID, 413, e.getMessage());
    }
    if (e instanceof BufferBudget.ExhaustedException) {
      return MicroError.of(MicroError.RPC_ID, 503, e.getMessage());
    }
    if (Responses.clientGone(e)) {
      return null;
    }
    log.warn("{} {} failed: {}", method, uri, e.toString());
    return MicroError.of(MicroError.RPC_ID, 500, "internal error");
  }
}
