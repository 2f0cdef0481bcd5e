package io.micro.sidecar.core.config;

/**
 * A {@code host:port} pair split on the last colon, as Go's {@code net.SplitHostPort} reads it;
 * {@code [::1]:80} loses its brackets and an empty host means every interface.
 */
public record HostPort(String host, int port) {

  public HostPort {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " (expected: 0 to 65535)");
    }
  }

  /** @throws IllegalArgumentException naming the text and the expected form */
  public static HostPort parse(String text) {
    int colon = text == null ? -1 : text.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("'" + text + "' (expected: host:port, like 127.0.0.1:9090)");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has no numeric port (expected: host:port, like 127.0.0.1:9090)");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "' has port " + port + " (expected: 0 to 65535)");
    }
    return new HostPort(host, port);
  }

  /** True when the host names no interface, i.e. listen on all of them. */
  public boolean anyHost() {
    return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::");
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
