package io.micro.sidecar.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProtoRpcCodecTest {

  @Test
  void theRequestIsTwoNetstringsWithTheEnvelopeGoMicroWrites() {
    ByteBuf out = ProtoRpcCodec.encodeRequest(ByteBufAllocator.DEFAULT, "Say.Hello", new byte[] {9, 8});
    try {
      assertThat(out.readableBytes()).isEqualTo(ProtoRpcCodec.requestLength("Say.Hello", new byte[] {9, 8}));
      byte[] all = new byte[out.readableBytes()];
      out.getBytes(0, all);
      // envelope length 20: 0x0a, 9, "Say.Hello", 0x11, eight zero bytes of seq; then the body's netstring
      assertThat(all).containsExactly(0, 0, 0, 20, 0x0a, 9, 'S', 'a', 'y', '.', 'H', 'e', 'l', 'l', 'o',
          0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 9, 8);
    } finally {
      out.release();
    }
  }

  @Test
  void anAnswerIsItsBodyOrItsEnvelopesError() {
    byte[] ok = {0, 0, 0, 2, 0x0a, 0, 0, 0, 0, 3, 'a', 'b', 'c'};
    assertThat(((RpcAnswer.Result) ProtoRpcCodec.decodeResponse(Unpooled.wrappedBuffer(ok))).result())
        .isEqualTo("abc".getBytes(StandardCharsets.UTF_8));
    byte[] micro = "{\"id\":\"x\",\"code\":404,\"detail\":\"nope\"}".getBytes(StandardCharsets.UTF_8);
    byte[] failed = new byte[4 + 2 + micro.length + 4];
    failed[3] = (byte) (2 + micro.length);
    failed[4] = 0x1a;
    failed[5] = (byte) micro.length;
    System.arraycopy(micro, 0, failed, 6, micro.length);
    assertThat(((RpcAnswer.Failure) ProtoRpcCodec.decodeResponse(Unpooled.wrappedBuffer(failed))).error().code()).isEqualTo(404);
    RpcAnswer garbage = ProtoRpcCodec.decodeResponse(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 9, 1}));
    assertThat(((RpcAnswer.Failure) garbage).error().detail()).isEqualTo("invalid response from app: not proto-rpc framing");
  }
}
