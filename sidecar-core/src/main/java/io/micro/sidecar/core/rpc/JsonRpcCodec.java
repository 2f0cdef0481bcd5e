package io.micro.sidecar.core.rpc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.micro.sidecar.core.text.Shown;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * go-micro's JSON-RPC codec as apps expect it (contract §4): a request
 * {@code {"method":"Example.Call","params":[{"name":"John"}],"id":0}} and an answer
 * {@code {"id":0,"result":<any JSON>,"error":null}}.
 *
 * <p>Values are never parsed into a tree: the request is copied into the envelope verbatim and the
 * result is cut out of the answer by byte offsets, so what the caller sent is what the app gets and
 * what the app sent is what the caller gets, byte for byte.
 *
 * <p>Stateless and thread-safe; never blocks. Buffers given to it are neither retained nor released.
 */
public final class JsonRpcCodec {

  private static final byte[] METHOD_PREFIX = "{\"method\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PARAMS_PREFIX = "\",\"params\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SUFFIX = "],\"id\":0}".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

  private JsonRpcCodec() {}

  /**
   * The request envelope for {@code method} with {@code request} (one JSON value, trusted to be
   * valid: it comes from {@link RpcRequestCodec} or an already validated body) as its only param.
   *
   * @return a new buffer from {@code alloc}, owned by the caller
   */
  public static ByteBuf encodeRequest(ByteBufAllocator alloc, String method, byte[] request) {
    return encodeRequest(alloc, method, request, 0, request.length);
  }

  /** As {@link #encodeRequest(ByteBufAllocator, String, byte[])} with {@code length} bytes of {@code request} from {@code offset}. */
  public static ByteBuf encodeRequest(ByteBufAllocator alloc, String method, byte[] request, int offset, int length) {
    Objects.requireNonNull(request, "request");
    byte[] quoted = quote(method);
    ByteBuf out = alloc.buffer(envelopeSize(quoted, length));
    return out.writeBytes(METHOD_PREFIX).writeBytes(quoted).writeBytes(PARAMS_PREFIX)
        .writeBytes(request, offset, length).writeBytes(SUFFIX);
  }

  /**
   * As {@link #encodeRequest(ByteBufAllocator, String, byte[])} with the request's readable bytes.
   * {@code request} is neither released nor consumed: its reader index does not move, and it stays
   * the caller's to release.
   *
   * @return a new buffer from {@code alloc}, owned by the caller
   */
  public static ByteBuf encodeRequest(ByteBufAllocator alloc, String method, ByteBuf request) {
    Objects.requireNonNull(request, "request");
    byte[] quoted = quote(method);
    int length = request.readableBytes();
    ByteBuf out = alloc.buffer(envelopeSize(quoted, length));
    return out.writeBytes(METHOD_PREFIX).writeBytes(quoted).writeBytes(PARAMS_PREFIX)
        .writeBytes(request, request.readerIndex(), length).writeBytes(SUFFIX);
  }

  /**
   * Reads an app's answer. {@code result} and {@code error} are found at the top level in any
   * order; other members are skipped; a repeated member counts by its last occurrence, as Go's
   * decoder does. {@code body} is neither released nor consumed.
   *
   * <ul>
   *   <li>{@code error} null or absent → {@link RpcAnswer.Result} with the raw {@code result}
   *       ({@code null} when absent).
   *   <li>{@code error} a string holding a micro error with a positive code → that error.
   *   <li>{@code error} another string → 500 {@code error during request: <string>}; an empty string
   *       reads {@code unspecified error}, as go-micro's client codec says.
   *   <li>{@code error} a micro error object ({@code code} positive, {@code detail} or {@code id},
   *       no {@code message}) → that error. A JSON-RPC 2.0 object
   *       {@code {"code":-32601,"message":"method not found"}} → 500
   *       {@code error during request: -32601 method not found}.
   *   <li>anything else, including a body that is not exactly one JSON object → 500
   *       {@code invalid response from app: <reason>}.
   * </ul>
   * Every failure made here has id {@code go.micro.client}.
   */
  public static RpcAnswer decodeResponse(ByteBuf body) {
    Objects.requireNonNull(body, "body");
    int length = body.readableBytes();
    try {
      JsonSlices.rejectNul(body);
      if (body.hasArray()) {
        byte[] array = body.array();
        int offset = body.arrayOffset() + body.readerIndex();
        try (JsonParser p = JsonSlices.FACTORY.createParser(array, offset, length)) {
          return read(p, (start, end) -> copy(array, offset + start, offset + end));
        }
      }
      try (JsonParser p = JsonSlices.FACTORY.createParser((InputStream) new ByteBufInputStream(body.duplicate()))) {
        int base = body.readerIndex();
        return read(p, (start, end) -> {
          byte[] out = new byte[end - start];
          body.getBytes(base + start, out);
          return out;
        });
      }
    } catch (IOException e) {
      return invalid(JsonSlices.reason(e));
    } catch (RuntimeException e) {
      // a ByteBuf released under our feet or the like: still the app's answer we could not read
      return invalid(Shown.firstLine(String.valueOf(e.getMessage())));
    }
  }

  @FunctionalInterface
  private interface Slicer {
    byte[] slice(int start, int end);
  }

  private static RpcAnswer read(JsonParser p, Slicer slicer) throws IOException {
    JsonToken first = p.nextToken();
    if (first == null) {
      return invalid("empty body (expected: a JSON-RPC response object)");
    }
    if (first != JsonToken.START_OBJECT) {
      p.skipChildren();
      return invalid("a JSON " + JsonSlices.describe(first) + " (expected: a JSON-RPC response object)");
    }
    byte[] result = NULL;
    RpcAnswer failure = null;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
      String key = p.currentName();
      JsonToken v = p.nextToken();
      if ("result".equalsIgnoreCase(key)) {
        long range = JsonSlices.skipValue(p);
        result = slicer.slice(JsonSlices.start(range), JsonSlices.end(range));
      } else if ("error".equalsIgnoreCase(key)) {
        failure = error(p, v);
      } else {
        p.skipChildren();
      }
    }
    JsonToken extra = p.nextToken();
    if (extra != null) {
      return invalid("trailing " + JsonSlices.describe(extra) + " after the response object");
    }
    return failure != null ? failure : new RpcAnswer.Result(result);
  }

  /** The failure for the {@code error} member whose first token is current; null when it is null. */
  private static RpcAnswer error(JsonParser p, JsonToken v) throws IOException {
    switch (v) {
      case VALUE_NULL:
        return null;
      case VALUE_STRING:
        return stringError(p.getText());
      case START_OBJECT:
        return objectError(p);
      default:
        p.skipChildren();
        return invalid("error: a JSON " + JsonSlices.describe(v) + " (expected: a string, an object or null)");
    }
  }

  /** A micro error object passes through; a JSON-RPC 2.0 error object becomes a 500. */
  private static RpcAnswer objectError(JsonParser p) throws IOException {
    String message = null;
    boolean hasMessage = false;
    boolean microShaped = false;
    Integer code = null;
    String id = null;
    String detail = null;
    String status = null;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
      String key = p.currentName();
      JsonToken v = p.nextToken();
      if ("code".equalsIgnoreCase(key) && v == JsonToken.VALUE_NUMBER_INT
          && p.getNumberType() == JsonParser.NumberType.INT) {
        code = p.getIntValue();
      } else if ("message".equalsIgnoreCase(key)) {
        hasMessage = true;
        message = v == JsonToken.VALUE_STRING ? p.getText() : text(p, v);
      } else if ("detail".equalsIgnoreCase(key) && v == JsonToken.VALUE_STRING) {
        microShaped = true;
        detail = p.getText();
      } else if ("id".equalsIgnoreCase(key) && v == JsonToken.VALUE_STRING) {
        microShaped = true;
        id = p.getText();
      } else if ("status".equalsIgnoreCase(key) && v == JsonToken.VALUE_STRING) {
        status = p.getText();
      } else {
        p.skipChildren();
      }
    }
    if (microShaped && !hasMessage && code != null && code > 0) {
      MicroError e = status == null || status.isEmpty()
          ? MicroError.of(id, code, detail) : new MicroError(id, code, detail, status);
      return new RpcAnswer.Failure(e);
    }
    StringBuilder b = new StringBuilder();
    if (code != null) {
      b.append(code);
    }
    if (message != null && !message.isEmpty()) {
      b.append(b.length() > 0 ? " " : "").append(message);
    }
    return duringRequest(b.length() > 0 ? b.toString() : "unspecified error");
  }

  private static String text(JsonParser p, JsonToken v) throws IOException {
    if (v.isScalarValue() && v != JsonToken.VALUE_NULL) {
      return p.getText();
    }
    p.skipChildren();
    return null;
  }

  /** An app's error given as a string (go-micro's codecs all do): a micro error JSON keeps its code; other text is 500. */
  static RpcAnswer stringError(String s) {
    Optional<MicroError> passed = MicroError.parse(s);
    if (passed.isPresent()) {
      return new RpcAnswer.Failure(passed.get());
    }
    return duringRequest(s.isEmpty() ? "unspecified error" : s);
  }

  private static RpcAnswer duringRequest(String what) {
    return new RpcAnswer.Failure(MicroError.of(MicroError.CLIENT_ID, 500, "error during request: " + what), true);
  }

  private static RpcAnswer invalid(String reason) {
    return new RpcAnswer.Failure(MicroError.of(MicroError.CLIENT_ID, 500, "invalid response from app: " + reason));
  }

  private static byte[] quote(String method) {
    Objects.requireNonNull(method, "method");
    return JsonStringEncoder.getInstance().quoteAsUTF8(method);
  }

  /** The length of what {@link #encodeRequest(ByteBufAllocator, String, byte[])} makes, without making it. */
  public static int requestLength(String method, byte[] request) {
    return envelopeSize(quote(method), request.length);
  }

  private static int envelopeSize(byte[] quotedMethod, int requestLength) {
    return METHOD_PREFIX.length + quotedMethod.length + PARAMS_PREFIX.length + requestLength + SUFFIX.length;
  }

  private static byte[] copy(byte[] array, int from, int to) {
    return Arrays.copyOfRange(array, from, to);
  }
}
