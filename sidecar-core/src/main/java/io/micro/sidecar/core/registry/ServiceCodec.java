package io.micro.sidecar.core.registry;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.micro.sidecar.core.text.Shown;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/**
 * JSON for the registry model (contract §2): lowercase keys with every field present on the way out,
 * case-insensitive keys and unknown keys ignored on the way in.
 *
 * <p>Stateless and thread-safe; the Jackson reader and writers are immutable.
 */
public final class ServiceCodec {

  /** Nesting deeper than this is not a service description but an attack on the parser. */
  private static final int MAX_NESTING = 64;

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .serializationInclusion(JsonInclude.Include.ALWAYS)
      .build();

  static {
    // Go's decoder refuses a number where a string belongs and the reverse; so does this one.
    for (CoercionInputShape shape : new CoercionInputShape[] {
        CoercionInputShape.Integer, CoercionInputShape.Float,
        CoercionInputShape.Boolean}) {
      MAPPER.coercionConfigFor(LogicalType.Textual)
          .setCoercion(shape, CoercionAction.Fail);
    }
    MAPPER.coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    MAPPER.getFactory().setStreamReadConstraints(
        StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build());
  }

  private static final ObjectReader SERVICE_READER = MAPPER.readerFor(Service.class);
  private static final ObjectWriter SERVICE_WRITER = MAPPER.writerFor(Service.class);
  private static final ObjectWriter LIST_WRITER =
      MAPPER.writerFor(MAPPER.getTypeFactory().constructCollectionType(List.class, Service.class));
  private static final ObjectWriter EVENT_WRITER = MAPPER.writerFor(WatchFrame.class);

  private ServiceCodec() {}

  /** The array answer of {@code GET /registry}. */
  public static byte[] encode(List<Service> services) {
    return write(LIST_WRITER, services);
  }

  public static byte[] encode(Service service) {
    return write(SERVICE_WRITER, service);
  }

  /** A watch frame: {@code {"Action":"create","Service":{...}}}. */
  public static byte[] encode(RegistryEvent event) {
    return write(EVENT_WRITER, new WatchFrame(event.action().wire(), event.service()));
  }

  /**
   * Reads a Service as sent to {@code POST}/{@code DELETE /registry} and checks that it can be
   * registered: it has a name and at least one node, and every node has an id.
   *
   * @throws InvalidServiceException with a one-line reason a client can act on
   */
  public static Service decodeRegistration(byte[] json) {
    Service service = decode(json);
    validate(service);
    return service;
  }

  /**
   * Reads a Service without checking it is complete (the values stored in etcd, for instance).
   *
   * @throws InvalidServiceException with a one-line reason
   */
  public static Service decode(byte[] json) {
    int first = firstNonBlank(json);
    if (first < 0) {
      throw new InvalidServiceException("body: empty (expected: a Service JSON object)");
    }
    if (json[first] != '{') {
      throw new InvalidServiceException(
          "body: not a JSON object (expected: a Service such as {\"name\":\"foo\",\"nodes\":[...]})");
    }
    try {
      Service service = SERVICE_READER.readValue(json);
      if (service == null) {
        throw new InvalidServiceException("body: null (expected: a Service JSON object)");
      }
      return service;
    } catch (JsonMappingException e) {
      throw new InvalidServiceException(path(e) + ": " + Shown.firstLine(e.getOriginalMessage()));
    } catch (JsonProcessingException e) {
      throw new InvalidServiceException("body: invalid JSON: " + Shown.firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Checks what every registration needs, naming the first field that is wrong. */
  public static void validate(Service service) {
    String name = service.name();
    if (name == null || name.isEmpty()) {
      throw new InvalidServiceException("name: missing (expected: a service name such as \"foo.bar\")");
    }
    // a broker topic's service (contract §7.4) carries the topic as it is: spaces and any '/' allowed
    boolean topic = name.startsWith(TOPIC_PREFIX) && validTopic(name.substring(TOPIC_PREFIX.length()));
    if (!topic && !validName(name)) {
      throw new InvalidServiceException("name: " + Shown.quoted(name)
          + " (expected: no spaces or control characters, no empty, '.' or '..' part between '/', at most 255 characters)");
    }
    List<Node> nodes = service.nodes();
    if (nodes == null || nodes.isEmpty()) {
      throw new InvalidServiceException("nodes: missing (expected: at least one node with an id)");
    }
    for (int i = 0; i < nodes.size(); i++) {
      Node node = nodes.get(i);
      if (node == null) {
        throw new InvalidServiceException("nodes[" + i + "]: null (expected: a node object)");
      }
      if (node.id() == null || node.id().isEmpty()) {
        throw new InvalidServiceException("nodes[" + i + "].id: missing (expected: a unique node id)");
      }
      if (topic ? !validTopicNodeId(node.id()) : !validName(node.id())) {
        throw new InvalidServiceException("nodes[" + i + "].id: " + Shown.quoted(node.id())
            + " (expected: no spaces or control characters, no empty, '.' or '..' part between '/', at most 255 characters)");
      }
      if (node.port() < 0 || node.port() > 65535) {
        throw new InvalidServiceException(
            "nodes[" + i + "].port: " + node.port() + " (expected: 0 to 65535)");
      }
    }
  }

  /** Longest broker topic (and queue) name. */
  public static final int MAX_TOPIC = 200;

  /**
   * A broker topic or queue as the original took it (contract §7): 1 to {@value #MAX_TOPIC}
   * characters, no control characters. Its {@code topic:<t>} service keeps it as it is.
   */
  public static boolean validTopic(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_TOPIC) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (Character.isISOControl(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** Services named for a broker topic ({@code topic:<t>}). */
  private static final String TOPIC_PREFIX = "topic:";

  /** A topic node's id, {@code <t>-<uuid>}: no control characters, at most 255 characters. */
  private static boolean validTopicNodeId(String id) {
    return id.length() <= 255 && id.chars().noneMatch(Character::isISOControl);
  }

  /**
   * Names and ids as go-micro allows them: at most 255 characters, no whitespace or control characters.
   * A {@code /} is allowed (go-micro services use it; in an etcd key it becomes {@code -}), but not an
   * empty, {@code .} or {@code ..} part between slashes, so a name can never climb out of its key.
   */
  public static boolean validName(String s) {
    if (s.length() > 255) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c == 0x7f || Character.isWhitespace(c) || Character.isISOControl(c)) {
        return false;
      }
    }
    if (s.indexOf('/') >= 0) {
      for (String part : s.split("/", -1)) {
        if (part.isEmpty() || part.equals(".") || part.equals("..")) {
          return false;
        }
      }
    }
    return true;
  }

  private static String path(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (b.length() > 0) {
          b.append('.');
        }
        b.append(ref.getFieldName().toLowerCase(Locale.ROOT));
      } else if (ref.getIndex() >= 0) {
        b.append('[').append(ref.getIndex()).append(']');
      }
    }
    return b.length() == 0 ? "body" : b.toString();
  }

  private static int firstNonBlank(byte[] json) {
    for (int i = 0; i < json.length; i++) {
      byte b = json[i];
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return i;
      }
    }
    return -1;
  }

  private static byte[] write(ObjectWriter writer, Object value) {
    try {
      return writer.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      // records of strings, ints, maps and lists always serialise
      throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
    }
  }

  @JsonPropertyOrder({"Action", "Service"})
  private record WatchFrame(@JsonProperty("Action") String action,
                            @JsonProperty("Service") Service service) {}
}
