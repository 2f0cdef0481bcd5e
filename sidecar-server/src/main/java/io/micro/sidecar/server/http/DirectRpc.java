package io.micro.sidecar.server.http;

import io.micro.sidecar.core.client.Callback;
import io.micro.sidecar.core.rpc.MicroError;
import io.micro.sidecar.core.rpc.RpcRequest;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import reactor.core.Disposable;

/**
 * {@code POST /rpc} or the catch-all rpc route on the {@link DirectPath}: the same parsing, call and
 * answers as {@link RpcHandler} and {@link CatchAllRpcHandler}, without reactor-netty's server in between.
 */
final class DirectRpc extends DirectExchange implements Callback<byte[]> {

  /** The catch-all's raw path; null on {@code /rpc}. */
  private final String catchAll;
  private final String media;
  private Disposable call;

  DirectRpc(DirectPath path, ChannelHandlerContext ctx, DirectHandler handler, HttpRequest req, boolean keepAlive,
            int length, long start, String catchAll, String media) {
    super(path, ctx, handler, req, keepAlive, length, start);
    this.catchAll = catchAll;
    this.media = media;
  }

  @Override
  void dispatch(byte[] body) {
    RpcRequest request;
    try {
      request = catchAll == null ? RpcHandler.parse(headers, uri, body)
          : CatchAllRpcHandler.request(path.route(catchAll), CatchAllRpcHandler.proto(media), body);
    } catch (RuntimeException e) {
      failed(e);
      return;
    }
    call = path.client.call(request, headers, ctx.channel(), catchAll == null ? MicroError.RPC_ID : MicroError.API_ID,
        this);
  }

  @Override
  public void succeeded(byte[] result) {
    if (!path.budget.roomFor(result.length)) {
      failed(new BufferBudget.ExhaustedException(path.budget.max()));
      return;
    }
    // a proto-rpc reply goes back as the bytes the app wrote, with the request's content type
    CharSequence type = media != null && CatchAllRpcHandler.proto(media) ? AsciiString.of(media)
        : HttpHeaderValues.APPLICATION_JSON;
    answer(HttpResponseStatus.OK, type, result, false);
  }

  @Override
  public void failed(Throwable e) {
    MicroError error = RpcHandler.error(method, uri, e);
    if (error == null) {
      ctx.close();
      return;
    }
    int code = error.code() >= 200 && error.code() <= 599 ? error.code() : 500;
    answer(HttpResponseStatus.valueOf(code), HttpHeaderValues.APPLICATION_JSON, error.toJson(),
        e instanceof BufferBudget.ExhaustedException);
  }

  @Override
  void cancel() {
    if (call != null) {
      call.dispose();
    }
  }
}
