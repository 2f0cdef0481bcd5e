package io.micro.sidecar.core.rpc;

import java.util.Objects;

/**
 * A call that ends in a {@link MicroError}: bad input to {@code /rpc} or the catch-all route, or a
 * failed call to an app. The message is the error's detail.
 *
 * <p>It carries no stack trace: it is control flow on the request path, thrown and caught once per
 * bad request, and the {@link MicroError} says everything a log line needs.
 */
public final class RpcException extends RuntimeException {

  private final transient MicroError error;

  public RpcException(MicroError error) {
    super(Objects.requireNonNull(error, "error").detail(), null, false, false);
    this.error = error;
  }

  /** A 400 {@code go.micro.rpc} error with {@code detail}. */
  public static RpcException badRequest(String detail) {
    return new RpcException(MicroError.badRequest(detail));
  }

  public MicroError error() {
    return error;
  }
}
