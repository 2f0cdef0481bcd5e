package io.micro.sidecar.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz targets for the parsers that read what clients and apps send. Under plain JUnit (every build)
 * each target runs its kept corpus under {@code src/test/resources/.../RpcFuzzTestInputs/<target>/}
 * as regression cases; {@code JAZZER_FUZZ=1 mvn -pl sidecar-core test -Dtest=RpcFuzzTest} fuzzes.
 * The property everywhere: an answer or a 4xx {@link RpcException}, never another exception.
 */
class RpcFuzzTest {

  @FuzzTest(maxDuration = "60s")
  void jsonRpcAnswer(byte[] data) {
    ByteBuf buf = Unpooled.wrappedBuffer(data);
    RpcAnswer answer = JsonRpcCodec.decodeResponse(buf);
    assertThat(answer).isNotNull();
    assertThat(buf.readerIndex()).as("the answer is not consumed").isZero();
    if (answer instanceof RpcAnswer.Result r) {
      assertThat(r.result()).isNotNull().isNotEmpty();
    } else {
      assertThat(((RpcAnswer.Failure) answer).error().code()).isPositive();
    }
  }

  @FuzzTest(maxDuration = "60s")
  void formBody(byte[] data) {
    try {
      RpcRequest r = RpcRequestCodec.fromForm(new String(data, StandardCharsets.UTF_8));
      assertThat(r.service()).isNotEmpty();
      assertThat(r.method()).isNotEmpty();
      assertThat(r.request()).isNotEmpty();
    } catch (RpcException e) {
      assertThat(e.error().code()).isEqualTo(400);
    }
  }

  @FuzzTest(maxDuration = "60s")
  void jsonBody(byte[] data) {
    try {
      RpcRequest r = RpcRequestCodec.fromJson(data);
      assertThat(r.service()).isNotEmpty();
    } catch (RpcException e) {
      assertThat(e.error().code()).isEqualTo(400);
    }
  }

  @FuzzTest(maxDuration = "60s")
  void catchAllPath(byte[] data) {
    String path = "/" + new String(data, StandardCharsets.UTF_8);
    try {
      PathMapper.Route route = PathMapper.map("go.micro.srv", path);
      assertThat(route.service()).startsWith("go.micro.srv.").doesNotContain("/", "..", " ");
      assertThat(route.method()).isNotEmpty().doesNotContain("/");
    } catch (RpcException e) {
      assertThat(e.error().code()).isEqualTo(400);
    }
  }
}
