package io.micro.sidecar.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RpcExceptionTest {

  @Test
  void carriesTheErrorAndItsDetailAsMessage() {
    RpcException e = RpcException.badRequest("invalid method");
    assertThat(e).hasMessage("invalid method");
    assertThat(e.error()).isEqualTo(MicroError.badRequest("invalid method"));
    assertThat(new RpcException(MicroError.timeout("late")).error())
        .isEqualTo(new MicroError("go.micro.client", 408, "late", "Request Timeout"));
  }

  @Test
  void hasNoStackTraceNorSuppressionBecauseItIsControlFlow() {
    RpcException e = RpcException.badRequest("x");
    assertThat(e.getStackTrace()).isEmpty();
    e.addSuppressed(new IllegalStateException("ignored"));
    assertThat(e.getSuppressed()).isEmpty();
  }

  @Test
  void needsAnError() {
    assertThatThrownBy(() -> new RpcException(null)).isInstanceOf(NullPointerException.class);
  }
}
