package io.micro.sidecar.core.rpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.micro.sidecar.core.text.Shown;
import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.io.IOException;
import java.util.Locale;

/**
 * The streaming JSON factory of the RPC codecs and the one trick they share: finding where a JSON
 * value starts and ends in the input bytes, so that values travel between caller and app byte for
 * byte without being parsed into a tree and written again.
 *
 * <p>Stateless and thread-safe; the factory is immutable once built.
 */
final class JsonSlices {

  /** Nesting deeper than this is not an RPC request but an attack on the parser. */
  static final int MAX_NESTING = 64;

  static final JsonFactory FACTORY = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
      .build();

  private JsonSlices() {}

  /**
   * Consumes the value whose first token is current and returns its byte range {@code [start, end)}
   * packed as {@code start << 32 | end}, in the parser's byte offsets. Only parsers over bytes
   * report byte offsets, so only those may be given.
   */
  static long skipValue(JsonParser p) throws IOException {
    long start = p.currentTokenLocation().getByteOffset();
    JsonToken t = p.currentToken();
    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
      p.skipChildren();
    } else {
      // Strings are scanned lazily; finish them so that the location is past the closing quote.
      p.finishToken();
    }
    long end = p.currentLocation().getByteOffset();
    if (start < 0 || end < start || end > Integer.MAX_VALUE) {
      throw new IllegalStateException("parser reports no byte offsets: [" + start + ", " + end + ")");
    }
    return start << 32 | end;
  }

  static int start(long range) {
    return (int) (range >>> 32);
  }

  static int end(long range) {
    return (int) range;
  }

  /**
   * Checks that {@code json} is exactly one JSON value, surrounded by whitespace at most, and
   * returns its range as {@link #skipValue} does; throws with Jackson's reason otherwise.
   */
  static long validate(byte[] json) throws IOException {
    rejectNul(json, 0, json.length);
    try (JsonParser p = FACTORY.createParser(json)) {
      if (p.nextToken() == null) {
        throw new IOException("no JSON value (expected: a JSON value such as {})");
      }
      long range = skipValue(p);
      JsonToken extra = p.nextToken();
      if (extra != null) {
        throw new IOException("trailing " + describe(extra) + " after the JSON value");
      }
      return range;
    }
  }

  /**
   * JSON text never holds a raw NUL byte, and Jackson takes NULs near the start for a sign of UTF-16
   * or UTF-32, after which it reports no byte offsets (found by fuzzing). Refuse them up front.
   */
  static void rejectNul(byte[] json, int offset, int length) throws IOException {
    for (int i = offset; i < offset + length; i++) {
      if (json[i] == 0) {
        throw new IOException("NUL byte at offset " + (i - offset) + " (expected: UTF-8 JSON text)");
      }
    }
  }

  static void rejectNul(ByteBuf json) throws IOException {
    int at = json.forEachByte(ByteProcessor.FIND_NUL);
    if (at >= 0) {
      throw new IOException("NUL byte at offset " + (at - json.readerIndex()) + " (expected: UTF-8 JSON text)");
    }
  }

  static String describe(JsonToken t) {
    return switch (t) {
      case START_OBJECT, END_OBJECT -> "object";
      case START_ARRAY, END_ARRAY -> "array";
      case VALUE_STRING -> "string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
      case VALUE_TRUE, VALUE_FALSE -> "boolean";
      case VALUE_NULL -> "null";
      default -> t.name().toLowerCase(Locale.ROOT);
    };
  }

  /** The reason in one line, without the location Jackson appends. */
  static String reason(IOException e) {
    String message = e instanceof JsonProcessingException j
        ? j.getOriginalMessage() : e.getMessage();
    return Shown.firstLine(message);
  }
}
