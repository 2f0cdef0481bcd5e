package io.micro.sidecar.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonRpcCodecTest {

  private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(ByteBuf b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  /** Decodes {@code answer} from a plain heap buffer, releasing it. */
  private static RpcAnswer decode(String answer) {
    ByteBuf body = Unpooled.wrappedBuffer(utf8(answer));
    try {
      return JsonRpcCodec.decodeResponse(body);
    } finally {
      body.release();
    }
  }

  private static MicroError failure(String answer) {
    RpcAnswer a = decode(answer);
    assertThat(a).isInstanceOf(RpcAnswer.Failure.class);
    return ((RpcAnswer.Failure) a).error();
  }

  // ---- requests ----

  @Test
  void encodesTheGoMicroEnvelopeExactly() {
    ByteBuf out = JsonRpcCodec.encodeRequest(ALLOC, "Example.Call", utf8("{\"name\": \"John\"}"));
    try {
      assertThat(text(out)).isEqualTo("{\"method\":\"Example.Call\",\"params\":[{\"name\": \"John\"}],\"id\":0}");
      assertThat(out.readableBytes()).isEqualTo(out.capacity());
    } finally {
      out.release();
    }
  }

  @Test
  void escapesTheMethodAndCopiesAnyRequestValueVerbatim() {
    ByteBuf out = JsonRpcCodec.encodeRequest(ALLOC, "Fö\"o\\.B\nar", utf8("[1, \"\\u00e9\" ,null]"));
    try {
      assertThat(text(out)).isEqualTo(
          "{\"method\":\"Fö\\\"o\\\\.B\\nar\",\"params\":[[1, \"\\u00e9\" ,null]],\"id\":0}");
    } finally {
      out.release();
    }
  }

  @Test
  void encodesARangeOfAnArrayAsThatValueAlone() {
    ByteBuf out = JsonRpcCodec.encodeRequest(ALLOC, "A.B", utf8("{\"request\":[42],\"x\":1}"), 11, 4);
    try {
      assertThat(text(out)).isEqualTo("{\"method\":\"A.B\",\"params\":[[42]],\"id\":0}");
      assertThat(out.readableBytes()).isEqualTo(out.capacity());
    } finally {
      out.release();
    }
  }

  @Test
  void encodesFromABufferWithoutConsumingOrReleasingIt() {
    ByteBuf request = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(utf8("xx42"));
    request.skipBytes(2);
    ByteBuf out = JsonRpcCodec.encodeRequest(PooledByteBufAllocator.DEFAULT, "A.B", request);
    try {
      assertThat(text(out)).isEqualTo("{\"method\":\"A.B\",\"params\":[42],\"id\":0}");
      assertThat(request.readerIndex()).isEqualTo(2);
      assertThat(request.refCnt()).isEqualTo(1);
    } finally {
      out.release();
      request.release();
    }
  }

  // ---- results, byte for byte ----

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "{\"msg\": \"x\"}",
      "{\"msg\":\"go.micro.srv.example-c5718d29: Hello John\"}",
      "{ \"a\" :\n\t[ {\"b\":{ } } ,1 ] , \"c\":\"\\ud83d\\ude00 \\u00e9 é\" }",
      "\"a string with \\\"quotes\\\" and \\u0041\"",
      "\"\"",
      "[1, 2 ,3]",
      "[]",
      "42",
      "-0.5e+10",
      "0",
      "true",
      "false",
      "null",
  })
  void extractsTheResultByteForByte(String result) {
    assertThat(decode("{\"id\":0,\"result\":" + result + ",\"error\":null}"))
        .isEqualTo(new RpcAnswer.Result(utf8(result)));
    assertThat(decode(" {\"error\" : null ,\n \"result\" :  " + result + "  , \"id\":0}\n"))
        .isEqualTo(new RpcAnswer.Result(utf8(result)));
    assertThat(decode("{\"Result\":" + result + "}")).isEqualTo(new RpcAnswer.Result(utf8(result)));
  }

  static Stream<Arguments> buffers() {
    Function<byte[], ByteBuf> heap = Unpooled::wrappedBuffer;
    Function<byte[], ByteBuf> direct = b -> Unpooled.directBuffer(b.length).writeBytes(b);
    Function<byte[], ByteBuf> pooledDirect = b -> PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(b);
    Function<byte[], ByteBuf> offsetHeap = b -> {
      // an array offset and a reader index, as a slice of a larger read would have
      byte[] big = new byte[b.length + 20];
      System.arraycopy(b, 0, big, 13, b.length);
      ByteBuf whole = Unpooled.wrappedBuffer(big, 5, b.length + 10);
      return whole.readerIndex(8).writerIndex(8 + b.length);
    };
    Function<byte[], ByteBuf> composite = b -> {
      CompositeByteBuf c = Unpooled.compositeBuffer();
      int half = b.length / 2;
      c.addComponent(true, Unpooled.directBuffer().writeBytes(b, 0, half));
      c.addComponent(true, Unpooled.wrappedBuffer(b, half, b.length - half));
      return c;
    };
    return Stream.of(
        Arguments.of("heap", heap), Arguments.of("direct", direct), Arguments.of("pooled direct", pooledDirect),
        Arguments.of("heap with offsets", offsetHeap), Arguments.of("composite", composite));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("buffers")
  void readsEveryKindOfBufferWithoutConsumingOrReleasingIt(String kind, Function<byte[], ByteBuf> make) {
    String result = "{\"msg\": \"héllo\" , \"n\":[1,2]}";
    ByteBuf body = make.apply(utf8("{\"id\":0,\"result\":" + result + ",\"error\":null}"));
    int readerIndex = body.readerIndex();
    try {
      assertThat(JsonRpcCodec.decodeResponse(body)).isEqualTo(new RpcAnswer.Result(utf8(result)));
      assertThat(body.readerIndex()).isEqualTo(readerIndex);
      assertThat(body.refCnt()).isEqualTo(1);
    } finally {
      body.release();
    }
  }

  @Test
  void skipsOtherMembersWhateverTheyHold() {
    assertThat(decode("{\"x\":{\"result\":1,\"error\":\"no\"},\"id\":[0],\"result\":2,\"jsonrpc\":\"2.0\"}"))
        .isEqualTo(new RpcAnswer.Result(utf8("2")));
  }

  @Test
  void noResultAndNoErrorIsANullResult() {
    assertThat(decode("{\"id\":0}")).isEqualTo(new RpcAnswer.Result(utf8("null")));
    assertThat(decode("{}")).isEqualTo(new RpcAnswer.Result(utf8("null")));
    assertThat(decode("{\"error\":null}")).isEqualTo(new RpcAnswer.Result(utf8("null")));
  }

  @Test
  void aRepeatedMemberCountsByItsLastOccurrence() {
    assertThat(decode("{\"result\":1,\"result\":2}")).isEqualTo(new RpcAnswer.Result(utf8("2")));
    assertThat(decode("{\"error\":\"boom\",\"error\":null,\"result\":3}")).isEqualTo(new RpcAnswer.Result(utf8("3")));
  }

  // ---- errors ----

  @Test
  void aPlainErrorStringIsA500DuringRequest() {
    assertThat(failure("{\"id\":0,\"result\":null,\"error\":\"boom: it broke\"}"))
        .isEqualTo(new MicroError("go.micro.client", 500, "error during request: boom: it broke",
            "Internal Server Error"));
  }

  @Test
  void anErrorWinsOverAResult() {
    assertThat(failure("{\"result\":{\"a\":1},\"error\":\"boom\"}").detail()).isEqualTo("error during request: boom");
    assertThat(failure("{\"error\":\"boom\",\"result\":{\"a\":1}}").detail()).isEqualTo("error during request: boom");
  }

  @Test
  void anEmptyErrorStringIsStillAnErrorAsInGoMicro() {
    assertThat(failure("{\"error\":\"\"}").detail()).isEqualTo("error during request: unspecified error");
  }

  @Test
  void aMicroErrorStringPassesThroughWithItsCode() {
    String inner = "{\\\"id\\\":\\\"go.micro.srv.example\\\",\\\"code\\\":404,"
        + "\\\"detail\\\":\\\"no such user\\\",\\\"status\\\":\\\"Not Found\\\"}";
    assertThat(failure("{\"id\":0,\"result\":null,\"error\":\"" + inner + "\"}"))
        .isEqualTo(new MicroError("go.micro.srv.example", 404, "no such user", "Not Found"));
  }

  @Test
  void aMicroErrorStringWithOtherKeyCaseAndNoStatusPassesThrough() {
    assertThat(failure("{\"error\":\"{\\\"Id\\\":\\\"x\\\",\\\"Code\\\":429,\\\"Detail\\\":\\\"slow down\\\"}\"}"))
        .isEqualTo(new MicroError("x", 429, "slow down", "Too Many Requests"));
  }

  @Test
  void aJsonStringWithoutAPositiveCodeIsAPlainError() {
    assertThat(failure("{\"error\":\"{\\\"code\\\":0,\\\"detail\\\":\\\"d\\\"}\"}").detail())
        .isEqualTo("error during request: {\"code\":0,\"detail\":\"d\"}");
  }

  @Test
  void aJsonRpc2ObjectErrorIsA500WithCodeAndMessage() {
    assertThat(failure("{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":-32601,\"message\":\"method not found\",\"data\":{\"x\":[1]}}}"))
        .isEqualTo(new MicroError("go.micro.client", 500, "error during request: -32601 method not found",
            "Internal Server Error"));
    assertThat(failure("{\"error\":{\"message\":\"only a message\"}}").detail())
        .isEqualTo("error during request: only a message");
    assertThat(failure("{\"error\":{\"code\":7}}").detail()).isEqualTo("error during request: 7");
    assertThat(failure("{\"error\":{}}").detail()).isEqualTo("error during request: unspecified error");
  }

  @Test
  void aMicroErrorObjectPassesThrough() {
    assertThat(failure("{\"error\":{\"id\":\"go.micro.srv.x\",\"code\":403,\"detail\":\"no\"}}"))
        .isEqualTo(new MicroError("go.micro.srv.x", 403, "no", "Forbidden"));
  }

  @Test
  void anErrorOfAnotherTypeIsAnInvalidResponse() {
    assertThat(failure("{\"error\":42}"))
        .isEqualTo(new MicroError("go.micro.client", 500,
            "invalid response from app: error: a JSON number (expected: a string, an object or null)",
            "Internal Server Error"));
    assertThat(failure("{\"error\":[\"x\"],\"result\":1}").detail())
        .isEqualTo("invalid response from app: error: a JSON array (expected: a string, an object or null)");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "",
      "   ",
      "not json",
      "<html>502 Bad Gateway</html>",
      "[1,2]",
      "\"result\"",
      "42",
      "null",
      "{\"result\":1",
      "{\"result\":{\"a\":[1,2}}",
      "{\"result\":}",
      "{\"result\":1,}",
      "{result:1}",
      "{\"result\":1} {\"result\":2}",
      "{\"result\":1} x",
      "{\"result\":NaN}",
      "{\"result\":\"unterminated}",
  })
  void malformedAnswersAreInvalidResponsesOnOneLine(String answer) {
    MicroError e = failure(answer);
    assertThat(e.id()).isEqualTo("go.micro.client");
    assertThat(e.code()).isEqualTo(500);
    assertThat(e.status()).isEqualTo("Internal Server Error");
    assertThat(e.detail()).startsWith("invalid response from app: ").doesNotContain("\n");
  }

  @Test
  void malformedReasonsSayWhatWasWrong() {
    assertThat(failure("").detail())
        .isEqualTo("invalid response from app: empty body (expected: a JSON-RPC response object)");
    assertThat(failure("[1]").detail())
        .isEqualTo("invalid response from app: a JSON array (expected: a JSON-RPC response object)");
    assertThat(failure("{\"result\":1} 2").detail())
        .isEqualTo("invalid response from app: trailing number after the response object");
  }

  @Test
  void refusesNestingDeeperThan64() {
    String deep = "[".repeat(70) + "]".repeat(70);
    assertThat(failure("{\"result\":" + deep + "}").detail())
        .startsWith("invalid response from app: ").contains("nesting depth");
    String fine = "[".repeat(60) + "]".repeat(60);
    assertThat(decode("{\"result\":" + fine + "}")).isEqualTo(new RpcAnswer.Result(utf8(fine)));
  }
}
