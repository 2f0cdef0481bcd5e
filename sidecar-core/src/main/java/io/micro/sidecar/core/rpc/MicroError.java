package io.micro.sidecar.core.rpc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A go-micro error as it travels on the wire (contract §4):
 * {@code {"id":"go.micro.rpc","code":400,"detail":"invalid service","status":"Bad Request"}}. The
 * HTTP status of an error answer equals {@link #code()}.
 *
 * <p>Immutable and thread-safe. The components are never {@code null}: absent strings become {@code ""}.
 *
 * @param id who raised the error, such as {@code go.micro.rpc} or {@code go.micro.client}
 * @param code a positive status code, normally an HTTP status
 * @param detail a one-line, human-readable reason
 * @param status the HTTP reason phrase of {@code code}
 */
public record MicroError(String id, int code, String detail, String status) {

  /** Id of errors about the sidecar's own {@code /rpc} input. */
  public static final String RPC_ID = "go.micro.rpc";
  /** Id of errors raised while calling an app: selection, transport, deadline, bad answers. */
  public static final String CLIENT_ID = "go.micro.client";
  /** The catch-all route's id for errors an app gave as plain text, as micro's API handler named them. */
  public static final String API_ID = "go.micro.api";

  public MicroError {
    if (code <= 0) {
      throw new IllegalArgumentException("code: " + code + " (expected: a positive status code)");
    }
    id = id == null ? "" : id;
    detail = detail == null ? "" : detail;
    status = status == null ? "" : status;
  }

  /** An error whose {@code status} is the HTTP reason phrase of {@code code} ({@code 400} → {@code Bad Request}). */
  /** The same error under another id. */
  public MicroError withId(String other) {
    return new MicroError(other, code, detail, status);
  }

  public static MicroError of(String id, int code, String detail) {
    return new MicroError(id, code, detail, reasonPhrase(code));
  }

  /** 400 from {@code go.micro.rpc}: the caller's input is wrong. */
  public static MicroError badRequest(String detail) {
    return of(RPC_ID, 400, detail);
  }

  /** 404 from {@code go.micro.client}: the service is not registered (go-micro's selector {@code ErrNotFound}). */
  public static MicroError notFound(String detail) {
    return of(CLIENT_ID, 404, detail);
  }

  /** 503 from {@code go.micro.client}: the service exists but no node is usable. */
  public static MicroError serviceUnavailable(String detail) {
    return of(CLIENT_ID, 503, detail);
  }

  /** 408 from {@code go.micro.client}: the call's deadline passed. */
  public static MicroError timeout(String detail) {
    return of(CLIENT_ID, 408, detail);
  }

  /** The wire form, keys in the order id, code, detail, status, as go-micro writes them. */
  public byte[] toJson() {
    JsonStringEncoder enc = JsonStringEncoder.getInstance();
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + id.length() + detail.length());
    out.writeBytes(ID_KEY);
    out.writeBytes(enc.quoteAsUTF8(id));
    out.writeBytes(CODE_KEY);
    out.writeBytes(Integer.toString(code).getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(DETAIL_KEY);
    out.writeBytes(enc.quoteAsUTF8(detail));
    out.writeBytes(STATUS_KEY);
    out.writeBytes(enc.quoteAsUTF8(status));
    out.write('"');
    out.write('}');
    return out.toByteArray();
  }

  /**
   * Reads a micro error from the text an app put in a JSON-RPC {@code error} string. Lenient in
   * what go-micro was lenient about: keys match case-insensitively, unknown keys are ignored, absent
   * strings become {@code ""} and an absent or empty {@code status} is filled with the reason
   * phrase of the code.
   *
   * @return empty unless {@code json} is exactly one JSON object with a positive integer {@code code}
   *     and string (or null) {@code id}, {@code detail} and {@code status}
   */
  public static Optional<MicroError> parse(String json) {
    if (json == null || json.isEmpty()) {
      return Optional.empty();
    }
    try (JsonParser p = JsonSlices.FACTORY.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return Optional.empty();
      }
      Optional<MicroError> error = readObject(p);
      if (error.isPresent() && p.nextToken() != null) {
        return Optional.empty();
      }
      return error;
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Reads the members of an object whose {@code START_OBJECT} is the current token, up to and
   * including its {@code END_OBJECT}; shared with the JSON-RPC codec for object errors.
   */
  static Optional<MicroError> readObject(JsonParser p) throws IOException {
    String id = null;
    String detail = null;
    String status = null;
    int code = 0;
    boolean valid = true;
    for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
      String key = p.currentName();
      JsonToken v = p.nextToken();
      if ("code".equalsIgnoreCase(key)) {
        if (v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
          code = p.getIntValue();
        } else {
          valid = false;
        }
      } else if ("id".equalsIgnoreCase(key)) {
        id = stringOrNull(p, v);
        valid &= id != null || v == JsonToken.VALUE_NULL;
      } else if ("detail".equalsIgnoreCase(key)) {
        detail = stringOrNull(p, v);
        valid &= detail != null || v == JsonToken.VALUE_NULL;
      } else if ("status".equalsIgnoreCase(key)) {
        status = stringOrNull(p, v);
        valid &= status != null || v == JsonToken.VALUE_NULL;
      } else {
        p.skipChildren();
      }
    }
    if (!valid || code <= 0) {
      return Optional.empty();
    }
    return Optional.of(new MicroError(id, code, detail,
        status == null || status.isEmpty() ? reasonPhrase(code) : status));
  }

  private static String stringOrNull(JsonParser p, JsonToken v) throws IOException {
    if (v == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    p.skipChildren();
    return null;
  }

  private static String reasonPhrase(int code) {
    return code > 0 ? HttpResponseStatus.valueOf(code).reasonPhrase() : "";
  }

  private static final byte[] ID_KEY = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CODE_KEY = "\",\"code\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DETAIL_KEY = ",\"detail\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] STATUS_KEY = "\",\"status\":\"".getBytes(StandardCharsets.US_ASCII);
}
