package io.micro.sidecar.core.rpc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * What an app answered to one JSON-RPC call: either its {@code result}, byte for byte, or an error.
 * Made by {@link JsonRpcCodec#decodeResponse}.
 */
public sealed interface RpcAnswer {

  /**
   * A successful answer.
   *
   * @param result the raw JSON of the app's {@code result} exactly as it sent it; {@code null} (the
   *     four bytes) when it sent none. The array is not copied; do not modify it.
   */
  record Result(byte[] result) implements RpcAnswer {
    public Result {
      Objects.requireNonNull(result, "result");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Result r && Arrays.equals(result, r.result);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(result);
    }

    @Override
    public String toString() {
      return "Result[" + new String(result, StandardCharsets.UTF_8) + "]";
    }
  }

  /**
   * An error answer, or an answer that could not be read, as the micro error to give the caller.
   * {@code plain} marks an error the app gave as text rather than as a micro error: its id is the
   * route's ({@code go.micro.rpc} on {@code /rpc}, {@code go.micro.api} on the catch-all), as the original's.
   */
  record Failure(MicroError error, boolean plain) implements RpcAnswer {
    public Failure {
      Objects.requireNonNull(error, "error");
    }

    public Failure(MicroError error) {
      this(error, false);
    }
  }
}
