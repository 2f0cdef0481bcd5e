package io.micro.sidecar.core.broker;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One published message, as go-micro's {@code broker.Message}: string headers and an opaque body.
 *
 * <p>The header is copied into an unmodifiable map sorted by name (Go's JSON encoder writes map keys
 * sorted, so frames come out the same). The body array is not copied: the publisher hands it over and
 * nobody writes to it afterwards, since every subscriber of a topic sees the same instance.
 *
 * @param header message headers, never null (empty when there are none)
 * @param body   the payload, never null (empty when there is none)
 */
public record Message(Map<String, String> header, byte[] body) {

  public Message {
    header = header == null || header.isEmpty()
        ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(header));
    body = body == null ? new byte[0] : body;
  }

  public static Message of(Map<String, String> header, byte[] body) {
    return new Message(header, body);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Message m && header.equals(m.header) && Arrays.equals(body, m.body);
  }

  @Override
  public int hashCode() {
    return Objects.hash(header, Arrays.hashCode(body));
  }

  @Override
  public String toString() {
    return "Message[header=" + header + ", body=" + body.length + " bytes]";
  }
}
