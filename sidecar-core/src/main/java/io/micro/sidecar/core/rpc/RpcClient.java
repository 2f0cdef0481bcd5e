package io.micro.sidecar.core.rpc;

import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.registry.Node;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.metrics.CallOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;

/**
 * Calls apps the way go-micro's HTTP transport with its JSON-RPC codec does (contract §4):
 * {@code POST /} with {@code {"method":..,"params":[request],"id":0}}, a {@code Timeout} header with
 * the remaining deadline in nanoseconds, and the caller's headers passed on. The answer's
 * {@code result} comes back byte for byte; its {@code error} becomes an {@link RpcException}.
 *
 * <p>Calls go over {@link LoopClient}: each on the event loop of the request that made it, over that
 * loop's own keep-alive connection to the node ({@link AppConnections#calls()}); holds no per-call
 * state and never blocks.
 */
public final class RpcClient {

  private static final byte[] EMPTY = new byte[0];
  private static final String TRANSPORT_ID = "go.micro.client.transport";
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final HttpHeadersFactory TRAILERS = DefaultHttpHeadersFactory.trailersFactory().withValidation(false);

  private final LoopClient calls;
  private final Balancer balancer;
  private final Duration deadline;
  private final CallObserver observer;

  public RpcClient(AppConnections connections, Balancer balancer, ClientConfig config) {
    this.calls = connections.calls();
    this.observer = connections.observer();
    this.balancer = balancer;
    this.deadline = config.requestTimeout();
  }

  /**
   * Calls {@code request.method} on a node of {@code request.service} (or on {@code request.address}
   * when given), within the deadline, on {@code caller}'s event loop.
   *
   * @return the app's {@code result}, byte for byte; errors are {@link RpcException}s carrying the
   *     micro error to answer with
   */
  /**
   * @param appErrorId the id given to an error the app reports as plain text: the route's
   *                   ({@link MicroError#RPC_ID} on {@code /rpc}, {@link MicroError#API_ID} on the catch-all)
   */
  public Mono<byte[]> call(RpcRequest request, HttpHeaders incoming, Channel caller, String appErrorId) {
    long deadlineAt = System.nanoTime() + deadline.toNanos();
    Mono<AppResponse> response = request.address() == null
        ? balancer.call(request.service(), node -> attempt(caller, node.target().host(), node.target().port(), request, incoming,
            deadlineAt), r -> r.status >= 500)
        : direct(caller, request, incoming, deadlineAt);
    Mono<byte[]> call = response
        .onErrorMap(TimeoutException.class, e -> new RpcException(MicroError.timeout(
            "call to " + request.service() + " timed out after " + deadline.toMillis() + "ms")))
        .onErrorMap(e -> !(e instanceof RpcException), RpcClient::unreachable)
        .map(r -> result(r, request.proto(), appErrorId));
    return observer == CallObserver.NOOP ? call : observed(call, request);
  }

  /** Tells the observer how the call ended, once: result, error or the caller going away. */
  private Mono<byte[]> observed(Mono<byte[]> call, RpcRequest request) {
    String service = request.address() == null ? request.service() : request.address();
    return Mono.defer(() -> {
      long start = System.nanoTime();
      return call.doOnEach(signal -> {
        if (signal.isOnNext()) {
          observer.called(service, CallOutcome.OK, System.nanoTime() - start);
        } else if (signal.isOnError()) {
          Throwable e = signal.getThrowable();
          CallOutcome outcome = e instanceof RpcException rpc ? CallOutcome.ofErrorCode(rpc.error().code()) : CallOutcome.ERROR;
          observer.called(service, outcome, System.nanoTime() - start);
        }
      }).doOnCancel(() -> observer.called(service, CallOutcome.CANCELLED, System.nanoTime() - start));
    });
  }

  private Mono<AppResponse> direct(Channel caller, RpcRequest request, HttpHeaders incoming, long deadlineAt) {
    HostPort to;
    try {
      to = HostPort.parse(request.address());
    } catch (IllegalArgumentException e) {
      return Mono.error(RpcException.badRequest("invalid address: " + e.getMessage()));
    }
    return attempt(caller, to.host(), to.port(), request, incoming, deadlineAt);
  }

  /**
   * One attempt, on the caller's event loop over that loop's own connection to the node: the request
   * is built when the connection is ready (so a caller that leaves first allocates nothing) and goes
   * out in one write; the answer comes back whole. The deadline runs on the loop's timer.
   */
  private Mono<AppResponse> attempt(Channel caller, String host, int port, RpcRequest request, HttpHeaders incoming,
                                    long deadlineAt) {
    String authority = authority(host, port);
    return calls.exchange(caller, host, port, alloc -> {
          ByteBuf body = request.proto()
              ? ProtoRpcCodec.encodeRequest(alloc, request.method(), request.request())
              : JsonRpcCodec.encodeRequest(alloc, request.method(), request.request());
          // names are ours or came through Netty's decoder, which validated them: not validated again
          FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/", body, HEADERS, TRAILERS);
          HttpHeaders h = r.headers();
          AppConnections.forward(incoming, h);
          // go-micro's HTTP transport names the codec by content type: JSON-RPC, or proto-rpc as octet-stream
          AsciiString type = request.proto() ? HttpHeaderValues.APPLICATION_OCTET_STREAM : HttpHeaderValues.APPLICATION_JSON;
          h.set(HttpHeaderNames.HOST, authority)
              .set(HttpHeaderNames.CONTENT_TYPE, type)
              .set(HttpHeaderNames.ACCEPT, type)
              .set("Timeout", Long.toString(Math.max(1, deadlineAt - System.nanoTime())))
              .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
          return r;
        }, deadlineAt)
        .map(answer -> {
          try {
            return new AppResponse(answer.status(), ByteBufUtil.getBytes(answer.content()));
          } finally {
            answer.release();
          }
        });
  }

  private static String authority(String host, int port) {
    String h = host.isEmpty() ? "127.0.0.1" : host;
    return (h.indexOf(':') >= 0 && !h.startsWith("[") ? "[" + h + "]" : h) + ":" + port;
  }

  private static byte[] result(AppResponse r, boolean proto, String appErrorId) {
    if (r.status != HttpResponseStatus.OK.code()) {
      String body = new String(r.body, StandardCharsets.UTF_8).strip();
      throw new RpcException(MicroError.of(TRANSPORT_ID, 500, r.statusLine + ": " + body));
    }
    RpcAnswer answer = proto ? ProtoRpcCodec.decodeResponse(Unpooled.wrappedBuffer(r.body))
        : JsonRpcCodec.decodeResponse(Unpooled.wrappedBuffer(r.body));
    if (answer instanceof RpcAnswer.Failure failure) {
      throw new RpcException(failure.plain() ? failure.error().withId(appErrorId) : failure.error());
    }
    return ((RpcAnswer.Result) answer).result();
  }

  /** The app could not be reached or the exchange broke: 503 before the request left, 502 after. */
  static RpcException unreachable(Throwable e) {
    String cause = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int code = Balancer.neverReached(e) ? 503 : 502;
    return new RpcException(MicroError.of(MicroError.CLIENT_ID, code, "app unreachable: " + cause));
  }

  /** What came back from one attempt, before it is judged. */
  private static final class AppResponse {
    final int status;
    final String statusLine;
    final byte[] body;

    AppResponse(HttpResponseStatus status, byte[] body) {
      this.status = status.code();
      this.statusLine = status.toString();
      this.body = body;
    }
  }
}
