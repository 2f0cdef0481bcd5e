package io.micro.sidecar.core.rpc;

import io.micro.sidecar.core.client.AppConnections;
import io.micro.sidecar.core.client.Balancer;
import io.micro.sidecar.core.client.Callback;
import io.micro.sidecar.core.client.LoopClient;
import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.metrics.CallOutcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.Disposable;
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

  private static final String TRANSPORT_ID = "go.micro.client.transport";
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

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
   * when given), within the deadline, on {@code caller}'s event loop; {@code done} hears, on that loop,
   * the app's {@code result}, byte for byte, or an {@link RpcException} carrying the micro error to
   * answer with.
   *
   * @param appErrorId the id given to an error the app reports as plain text: the route's
   *                   ({@link MicroError#RPC_ID} on {@code /rpc}, {@link MicroError#API_ID} on the catch-all)
   * @return disposing of it drops the call (counted as cancelled)
   */
  public Disposable call(RpcRequest request, HttpHeaders incoming, Channel caller, String appErrorId,
                         Callback<byte[]> done) {
    long deadlineAt = System.nanoTime() + deadline.toNanos();
    Call call = new Call(request, appErrorId, done);
    Disposable under;
    if (request.address() == null) {
      under = balancer.call(request.service(), (node, answer) -> attempt(caller, node.target(), request, incoming,
          deadlineAt, answer), r -> r.status.code() >= 500, call);
    } else {
      HostPort to;
      try {
        to = HostPort.parse(request.address());
      } catch (IllegalArgumentException e) {
        call.failed(RpcException.badRequest("invalid address: " + e.getMessage()));
        return call;
      }
      under = attempt(caller, to, request, incoming, deadlineAt, call);
    }
    call.started(under);
    return call;
  }

  /** {@link #call(RpcRequest, HttpHeaders, Channel, String, Callback)} as a {@code Mono}. */
  public Mono<byte[]> call(RpcRequest request, HttpHeaders incoming, Channel caller, String appErrorId) {
    return Mono.create(sink -> sink.onDispose(call(request, incoming, caller, appErrorId, Callback.of(sink))));
  }

  /**
   * One attempt, on the caller's event loop over that loop's own connection to the node: the request
   * is built when the connection is ready (so a caller that leaves first allocates nothing) and goes
   * out in one write; the answer comes back whole and is judged there, its buffer released at once.
   * The deadline runs on the loop's timer.
   */
  private Disposable attempt(Channel caller, HostPort to, RpcRequest request, HttpHeaders incoming,
                             long deadlineAt, Callback<AppResponse> done) {
    String authority = authority(to.host(), to.port());
    return calls.exchange(caller, to.host(), to.port(), alloc -> {
      ByteBuf body = request.proto()
          ? ProtoRpcCodec.encodeRequest(alloc, request.method(), request.request())
          : JsonRpcCodec.encodeRequest(alloc, request.method(), request.bytes(), request.offset(), request.length());
      // names are ours or came through Netty's decoder, which validated them: not validated again
      FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/", body,
          HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
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
    }, deadlineAt, new Callback<>() {
      @Override
      public void succeeded(FullHttpResponse answer) {
        AppResponse judged;
        try {
          judged = new AppResponse(answer.status(), ByteBufUtil.getBytes(answer.content()));
        } finally {
          answer.release();
        }
        done.succeeded(judged);
      }

      @Override
      public void failed(Throwable error) {
        done.failed(error);
      }
    });
  }

  private static String authority(String host, int port) {
    String h = host.isEmpty() ? "127.0.0.1" : host;
    return (h.indexOf(':') >= 0 && !h.startsWith("[") ? "[" + h + "]" : h) + ":" + port;
  }

  private static byte[] result(AppResponse r, boolean proto, String appErrorId) {
    if (r.status.code() != HttpResponseStatus.OK.code()) {
      String body = new String(r.body, StandardCharsets.UTF_8).strip();
      throw new RpcException(MicroError.of(TRANSPORT_ID, 500, r.status + ": " + body));
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

  /**
   * One call from the caller's side: turns what the app answered, or how the exchange failed, into the
   * result or the micro error, and tells the observer once how it ended, the caller leaving included.
   */
  private final class Call implements Callback<AppResponse>, Disposable {
    private final RpcRequest request;
    private final String appErrorId;
    private final Callback<byte[]> done;
    private final long start = System.nanoTime();
    private volatile Disposable under;
    private volatile boolean ended;

    Call(RpcRequest request, String appErrorId, Callback<byte[]> done) {
      this.request = request;
      this.appErrorId = appErrorId;
      this.done = done;
    }

    void started(Disposable under) {
      this.under = under;
      if (ended) {
        under.dispose();
      }
    }

    @Override
    public void succeeded(AppResponse answer) {
      byte[] value;
      try {
        value = result(answer, request.proto(), appErrorId);
      } catch (RpcException e) {
        failed(e);
        return;
      }
      if (end(CallOutcome.OK)) {
        done.succeeded(value);
      }
    }

    @Override
    public void failed(Throwable error) {
      RpcException e;
      if (error instanceof RpcException rpc) {
        e = rpc;
      } else if (error instanceof TimeoutException) {
        e = new RpcException(MicroError.timeout("call to " + request.service() + " timed out after "
            + deadline.toMillis() + "ms"));
      } else {
        e = unreachable(error);
      }
      if (end(CallOutcome.ofErrorCode(e.error().code()))) {
        done.failed(e);
      }
    }

    @Override
    public void dispose() {
      if (end(CallOutcome.CANCELLED)) {
        Disposable d = under;
        if (d != null) {
          d.dispose();
        }
      }
    }

    @Override
    public boolean isDisposed() {
      return ended;
    }

    /** Ends the call with {@code outcome}, once: false when it had already ended. */
    private boolean end(CallOutcome outcome) {
      synchronized (this) {
        if (ended) {
          return false;
        }
        ended = true;
      }
      if (observer != CallObserver.NOOP) {
        observer.called(request.address() == null ? request.service() : request.address(), outcome,
            System.nanoTime() - start);
      }
      return true;
    }
  }

  /**
   * What came back from one attempt, before it is judged. The status is kept whole: its text (a new
   * string each time) is only wanted for an error.
   */
  private record AppResponse(HttpResponseStatus status, byte[] body) {
  }
}
