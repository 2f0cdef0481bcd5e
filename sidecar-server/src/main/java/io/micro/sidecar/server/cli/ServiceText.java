package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.registry.Endpoint;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The plain-text forms of registry answers, as the original micro v0.7 CLI printed them (its
 * {@code cli/helpers.go}), with one change: metadata is sorted by key, where Go's map order was random.
 */
final class ServiceText {

  private ServiceText() {}

  /** {@code list services}: the names, sorted and de-duplicated (one service has an entry per version). */
  static String names(List<Service> services) {
    TreeSet<String> names = new TreeSet<>();
    for (Service s : services) {
      if (s.name() != null && !s.name().isEmpty()) {
        names.add(s.name());
      }
    }
    return String.join("\n", names);
  }

  /**
   * {@code get service}: the original's text, lines joined by newlines:
   * <pre>
   * service  &lt;name&gt;
   *
   * version &lt;version&gt;                   (per version, in the sidecar's order)
   *
   * Id	Address	Port	Metadata
   * &lt;id&gt;	&lt;address&gt;	&lt;port&gt;	k=v,k=v   (per node)
   *
   * Endpoint: &lt;name&gt;                   (per endpoint of the first version)
   * Metadata: k=v,k=v
   *
   * Request: {
   * 	&lt;field&gt; &lt;type&gt;
   * }
   *
   * Response: {}
   * </pre>
   */
  static String describe(List<Service> versions) {
    List<String> out = new ArrayList<>();
    out.add("service  " + versions.get(0).name());
    for (Service s : versions) {
      out.add("\nversion " + s.version());
      out.add("\nId\tAddress\tPort\tMetadata");
      for (Node n : list(s.nodes())) {
        out.add(n.id() + "\t" + n.address() + "\t" + n.port() + "\t" + metadata(n.metadata()));
      }
    }
    for (Endpoint e : list(versions.get(0).endpoints())) {
      out.add("\nEndpoint: " + e.name() + "\nMetadata: " + metadata(e.metadata()) + "\n");
      out.add("Request: " + shape(e.request()) + "\n\nResponse: " + shape(e.response()) + "\n");
    }
    return String.join("\n", out);
  }

  /** {@code health}: the header of one version's rows; each row comes from {@link #healthRow}. */
  static List<String> healthHeader(Service version, boolean first) {
    List<String> out = new ArrayList<>();
    if (first) {
      out.add("service  " + version.name());
    }
    out.add("\nversion " + version.version());
    out.add("\nnode\t\taddress:port\t\tstatus");
    return out;
  }

  static String healthRow(Node node, String status) {
    return node.id() + "\t\t" + address(node) + "\t\t" + status;
  }

  /** {@code host:port}, with brackets around IPv6 hosts so the port stays readable. */
  static String address(Node node) {
    String host = node.address();
    boolean v6 = host.indexOf(':') >= 0 && !host.startsWith("[");
    return (v6 ? "[" + host + "]" : host) + ":" + node.port();
  }

  static String metadata(Map<String, String> metadata) {
    if (metadata == null || metadata.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    new TreeMap<>(metadata).forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v));
    return b.toString();
  }

  /** A request or response shape: {@code {}} when it has no fields, else one field per line, nested by tabs. */
  static String shape(Value v) {
    if (v == null || v.values() == null || v.values().isEmpty()) {
      return "{}";
    }
    StringBuilder b = new StringBuilder("{\n");
    v.values().forEach(field -> field(b, field, 0));
    return b.append('}').toString();
  }

  private static void field(StringBuilder b, Value v, int depth) {
    String tabs = "\t".repeat(depth + 1);
    b.append(tabs).append(snake(v.name())).append(' ').append(v.type());
    if (v.values() == null || v.values().isEmpty()) {
      b.append('\n');
      return;
    }
    b.append(" {\n");
    v.values().forEach(child -> field(b, child, depth + 1));
    b.append(tabs).append("}\n");
  }

  /** Field names as the original showed them (serenize/snaker's CamelToSnake): {@code UserID} to {@code user_id}. */
  static String snake(String name) {
    if (name == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(name.length() + 4);
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c)) {
        char prev = i > 0 ? name.charAt(i - 1) : 0;
        boolean nextLower = i + 1 < name.length() && Character.isLowerCase(name.charAt(i + 1));
        if (i > 0 && prev != '_' && (Character.isLowerCase(prev) || Character.isDigit(prev)
            || (Character.isUpperCase(prev) && nextLower))) {
          b.append('_');
        }
        b.append(Character.toLowerCase(c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static <T> List<T> list(List<T> l) {
    return l == null ? List.of() : l.stream().filter(x -> x != null).toList();
  }
}
