package io.micro.sidecar.core.rpc;

import io.micro.sidecar.core.text.Shown;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

/**
 * Maps a path of the catch-all route to the service and method it calls (contract §5), as go-micro's
 * API router ({@code apiRoute} in its micro resolver) does.
 *
 * <p>The path is cleaned as Go's {@code path.Clean} does ({@code //} collapses, {@code .} and
 * {@code ..} resolve, never above the root, a trailing {@code /} goes), then split on {@code /}.
 * Service names keep the parts as they are; method names CamelCase each part on {@code -} and
 * title-case each word as Go's {@code strings.Title} does ({@code say-hello} → {@code SayHello},
 * {@code bar.baz} → {@code Bar.Baz}).
 *
 * <table>
 *   <caption>Routes, with the default namespace {@code go.micro.srv}</caption>
 *   <tr><th>path</th><th>service</th><th>method</th></tr>
 *   <tr><td>{@code /foo}</td><td>{@code go.micro.srv.foo}</td><td>{@code Foo.Call}</td></tr>
 *   <tr><td>{@code /foo/bar}</td><td>{@code go.micro.srv.foo}</td><td>{@code Foo.Bar}</td></tr>
 *   <tr><td>{@code /foo/bar/baz}</td><td>{@code go.micro.srv.foo}</td><td>{@code Bar.Baz}</td></tr>
 *   <tr><td>{@code /foo/bar/baz/cat}</td><td>{@code go.micro.srv.foo.bar}</td><td>{@code Baz.Cat}</td></tr>
 *   <tr><td>{@code /v1/foo/bar}</td><td>{@code go.micro.srv.v1.foo}</td><td>{@code Foo.Bar}</td></tr>
 *   <tr><td>{@code /v1/foo/bar/baz}</td><td>{@code go.micro.srv.v1.foo}</td><td>{@code Bar.Baz}</td></tr>
 * </table>
 *
 * <p>One part: the contract's table is silent, and the 2018 handler made an unusable service name
 * ({@code go.micro.srv.} with a trailing dot). This follows go-micro's later API router instead,
 * which treats {@code /foo} as {@code Foo.Call} on service {@code foo}: the handler every go-micro
 * template generates is {@code Call}.
 *
 * <p>An empty namespace gives service names without a prefix. The path must be URL-decoded
 * already; a part with a character outside {@code [A-Za-z0-9_.-]} is refused, which keeps encoded
 * slashes, spaces and control characters out of service names.
 *
 * <p>Stateless and thread-safe.
 */
public final class PathMapper {

  /** Where a path leads: a service name and the method to call on it. */
  public record Route(String service, String method) {
    public Route {
      Objects.requireNonNull(service, "service");
      Objects.requireNonNull(method, "method");
    }
  }

  private PathMapper() {}

  /**
   * The route of {@code path} in {@code namespace}.
   *
   * @throws RpcException 400 {@code invalid path} for an empty or root path, or
   *     {@code invalid path: <part>} for a part with a character outside {@code [A-Za-z0-9_.-]}, a dot
   *     at either end or two in a row, or
   *     without a letter or digit to name a method by
   */
  public static Route map(String namespace, String path) {
    Objects.requireNonNull(namespace, "namespace");
    List<String> parts = clean(path == null ? "" : path);
    if (parts.isEmpty()) {
      throw RpcException.badRequest("invalid path");
    }
    for (String part : parts) {
      check(part);
    }
    String prefix = namespace.isEmpty() ? "" : namespace + ".";
    int n = parts.size();
    if (n == 1) {
      return new Route(prefix + parts.get(0), camel(parts.get(0)) + ".Call");
    }
    if (n == 2) {
      return new Route(prefix + parts.get(0), method(parts));
    }
    if (n == 3 && isVersion(parts.get(0))) {
      return new Route(prefix + parts.get(0) + "." + parts.get(1), method(parts.subList(1, 3)));
    }
    return new Route(prefix + String.join(".", parts.subList(0, n - 2)), method(parts.subList(n - 2, n)));
  }

  /** The non-empty segments of {@code path} after Go's {@code path.Clean} of {@code "/" + path}. */
  static List<String> clean(String path) {
    Deque<String> out = new ArrayDeque<>();
    int i = 0;
    int len = path.length();
    while (i < len) {
      int slash = path.indexOf('/', i);
      int end = slash < 0 ? len : slash;
      String segment = path.substring(i, end);
      if (segment.equals("..")) {
        out.pollLast();
      } else if (!segment.isEmpty() && !segment.equals(".")) {
        out.addLast(segment);
      }
      i = end + 1;
    }
    return new ArrayList<>(out);
  }

  private static void check(String part) {
    boolean named = false;
    for (int i = 0; i < part.length(); i++) {
      char c = part.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && c != '_' && c != '.' && c != '-') {
        throw RpcException.badRequest("invalid path: " + Shown.line(part, 64));
      }
      named |= alnum;
    }
    if (!named) {
      // "-", "..." or "_" CamelCase to nothing a Go handler could be called
      throw RpcException.badRequest("invalid path: " + Shown.line(part, 64));
    }
    char first = part.charAt(0);
    char last = part.charAt(part.length() - 1);
    if (first == '.' || last == '.' || part.contains("..")) {
      // found by fuzzing: "..oetc" would make the service name "go.micro.srv...oetc"
      throw RpcException.badRequest("invalid path: " + Shown.line(part, 64));
    }
  }

  private static boolean isVersion(String part) {
    if (part.length() < 2 || part.charAt(0) != 'v') {
      return false;
    }
    for (int i = 1; i < part.length(); i++) {
      char c = part.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static String method(List<String> parts) {
    StringBuilder b = new StringBuilder();
    for (String part : parts) {
      if (b.length() > 0) {
        b.append('.');
      }
      b.append(camel(part));
    }
    return b.toString();
  }

  /**
   * go-micro's {@code toCamel}: split on {@code -}, {@code strings.Title} each word, join. Title
   * upper-cases every letter that follows a character other than a letter, digit or {@code _}.
   */
  static String camel(String part) {
    StringBuilder b = new StringBuilder(part.length());
    boolean upNext = true;
    for (int i = 0; i < part.length(); i++) {
      char c = part.charAt(i);
      if (c == '-') {
        upNext = true;
        continue;
      }
      b.append(upNext ? Character.toUpperCase(c) : c);
      upNext = !(Character.isLetterOrDigit(c) || c == '_');
    }
    return b.toString();
  }

}
