package io.micro.sidecar.core.broker;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A message as go-micro's JSON encodes {@code broker.Message}:
 * {@code {"Header":{"Content-Type":"text/plain"},"Body":"aGVsbG8gd29ybGQ="}} — header keys sorted,
 * the body in standard padded base64. Written and read with Jackson's streaming API, no tree.
 *
 * <p>Stateless and thread-safe.
 */
public final class MessageCodec {

  private static final JsonFactory JSON = JsonFactory.builder().build();

  private MessageCodec() {}

  public static byte[] encode(Message message) {
    Map<String, String> header = message.header();
    int estimate = 32 + (message.body().length + 2) / 3 * 4 + header.size() * 32;
    ByteArrayOutputStream out = new ByteArrayOutputStream(estimate);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeFieldName("Header");
      g.writeStartObject();
      for (Map.Entry<String, String> e : header.entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
      g.writeFieldName("Body");
      // MIME_NO_LINEFEEDS is RFC 4648 base64 with padding and no line breaks: Go's StdEncoding.
      g.writeBinary(Base64Variants.MIME_NO_LINEFEEDS, message.body(), 0, message.body().length);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("message: cannot encode (expected: never, writing to memory)", e);
    }
    return out.toByteArray();
  }

  /**
   * Reads a message as Go's {@code json.Unmarshal} reads a {@code broker.Message}: {@code Header} and
   * {@code Body} matched in any case, other keys ignored, {@code null} for an empty header or body.
   *
   * @throws IllegalArgumentException with a one-line reason when {@code json} is not such a message
   */
  public static Message decode(byte[] json) {
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("message: not a JSON object (expected: {\"Header\":{..},\"Body\":\"<base64>\"})");
      }
      Map<String, String> header = null;
      byte[] body = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName().toLowerCase(Locale.ROOT);
        JsonToken value = p.nextToken();
        switch (field) {
          case "header" -> header = header(p, value);
          case "body" -> body = body(p, value);
          default -> p.skipChildren();
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new IllegalArgumentException("message: trailing data after the object (expected: one JSON object)");
      }
      return new Message(header, body);
    } catch (IOException e) {
      String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw new IllegalArgumentException("message: invalid JSON: " + why.lines().findFirst().orElse("")
          + " (expected: {\"Header\":{..},\"Body\":\"<base64>\"})", e);
    }
  }

  private static Map<String, String> header(JsonParser p, JsonToken value) throws IOException {
    if (value == JsonToken.VALUE_NULL) {
      return null;
    }
    if (value != JsonToken.START_OBJECT) {
      throw new IllegalArgumentException("Header: not an object (expected: an object of strings)");
    }
    Map<String, String> header = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (v == JsonToken.VALUE_STRING) {
        header.put(name, p.getText());
      } else if (v != JsonToken.VALUE_NULL) {
        throw new IllegalArgumentException("Header." + name + ": not a string (expected: string values)");
      }
    }
    return header;
  }

  private static byte[] body(JsonParser p, JsonToken value) throws IOException {
    if (value == JsonToken.VALUE_NULL) {
      return null;
    }
    if (value != JsonToken.VALUE_STRING) {
      throw new IllegalArgumentException("Body: not a string (expected: the payload in standard base64)");
    }
    try {
      return p.getBinaryValue(Base64Variants.MIME_NO_LINEFEEDS);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("Body: not base64 (expected: the payload in standard padded base64)");
    }
  }
}
