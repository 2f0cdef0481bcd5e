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
 * @param bytes holds the request between {@code offset} and {@code offset + length}: the raw JSON of
 *     the request value, exactly one valid JSON value ({@code null} when the caller sent none); with
 *     {@code proto}, the caller's protobuf bytes as they came. Usually the body the request was read
 *     from, so that its value is not copied out; the array is not copied, do not modify it.
 * @param offset where the request starts in {@code bytes}
 * @param length the request's length in bytes
 * @param proto   call with go-micro's proto-rpc codec instead of JSON-RPC (contract §5)
 */
public record RpcRequest(String service, String method, String address, byte[] bytes, int offset, int length,
                         boolean proto) {

  public RpcRequest {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(bytes, "request");
    Objects.checkFromIndexSize(offset, length, bytes.length);
  }

  /** A call whose request is all of {@code request}. */
  public RpcRequest(String service, String method, String address, byte[] request, boolean proto) {
    this(service, method, address, request, 0, Objects.requireNonNull(request, "request").length, proto);
  }

  /** A JSON-RPC call whose request is all of {@code request}. */
  public RpcRequest(String service, String method, String address, byte[] request) {
    this(service, method, address, request, false);
  }

  /** The request's bytes: {@link #bytes()} itself when it holds nothing else, a copy of the range otherwise. */
  public byte[] request() {
    return offset == 0 && length == bytes.length ? bytes : Arrays.copyOfRange(bytes, offset, offset + length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RpcRequest r && service.equals(r.service) && method.equals(r.method)
        && Objects.equals(address, r.address) && proto == r.proto
        && Arrays.equals(bytes, offset, offset + length, r.bytes, r.offset, r.offset + r.length);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, method, address, Arrays.hashCode(request()), proto);
  }

  @Override
  public String toString() {
    String body = new String(bytes, offset, Math.min(length, 256), StandardCharsets.UTF_8);
    return "RpcRequest[service=" + service + ", method=" + method + ", address=" + address
        + ", request=" + body + (length > 256 ? "…" : "") + "]";
  }
}
