package io.micro.sidecar.core.broker;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A message as go-micro's JSON encodes {@code broker.Message}:
 * {@code {"Header":{"Content-Type":"text/plain"},"Body":"aGVsbG8gd29ybGQ="}} — header keys sorted,
 * the body in standard padded base64. Written with Jackson's streaming generator, no tree.
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
}
