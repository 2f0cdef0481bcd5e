package io.micro.sidecar.core.rpc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One call asked of {@code POST /rpc} (contract §4), as {@link RpcRequestCodec} reads it.
 *
 * @param service the service to call; never empty
 * @param method the handler method such as {@code Example.Call}; never empty
 * @param address {@code host:port} of the node to call, skipping selection; {@code null} to select
 * @param request the raw JSON of the request value, exactly one valid JSON value ({@code null} when the
 *     caller sent none); with {@code proto}, the caller's protobuf bytes as they came. The array is not
 *     copied; do not modify it.
 * @param proto   call with go-micro's proto-rpc codec instead of JSON-RPC (contract §5)
 */
public record RpcRequest(String service, String method, String address, byte[] request, boolean proto) {

  public RpcRequest {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(request, "request");
  }

  /** A JSON-RPC call. */
  public RpcRequest(String service, String method, String address, byte[] request) {
    this(service, method, address, request, false);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RpcRequest r && service.equals(r.service) && method.equals(r.method)
        && Objects.equals(address, r.address) && Arrays.equals(request, r.request) && proto == r.proto;
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, method, address, Arrays.hashCode(request), proto);
  }

  @Override
  public String toString() {
    String body = new String(request, 0, Math.min(request.length, 256), StandardCharsets.UTF_8);
    return "RpcRequest[service=" + service + ", method=" + method + ", address=" + address
        + ", request=" + body + (request.length > 256 ? "…" : "") + "]";
  }
}
