package io.micro.sidecar.server.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The global {@code --proxy_address} flag (contract §9): the sidecar every CLI command goes through.
 * A mixin of {@code micro}, so it stands before the command and reads {@code MICRO_PROXY_ADDRESS}.
 */
final class ProxyOption {

  static final String DEFAULT = "127.0.0.1:8081";

  private final CommandSpec micro;

  @Option(names = "--proxy_address", paramLabel = "<host:port>", defaultValue = DEFAULT,
      description = "Sidecar that the CLI commands (list, get, register, deregister, query, health, publish) "
          + "go through; they always talk to a sidecar, never to etcd directly. http:// and https:// prefixes "
          + "are accepted. Env MICRO_PROXY_ADDRESS. Default: ${DEFAULT-VALUE}.")
  String proxyAddress;

  /** @param micro the command this flag belongs to, named in errors */
  ProxyOption(CommandSpec micro) {
    this.micro = micro;
  }

  /** A client for the sidecar this flag names. @throws ParameterException naming the flag when it is not an address */
  SidecarClient sidecar() {
    return new SidecarClient(uri(proxyAddress), shown(proxyAddress));
  }

  /** {@code 127.0.0.1:8081}, {@code :8081}, {@code http://h:p} or {@code https://h:p} as the base URI of the sidecar. */
  URI uri(String address) {
    String a = shown(address);
    String lower = a.toLowerCase(Locale.ROOT);
    String withScheme = lower.startsWith("http://") || lower.startsWith("https://") ? a : "http://" + a;
    if (withScheme.matches("(?i)https?://:.*")) {
      // ":8081" is how the sidecar's own --address is written; it means this machine.
      withScheme = withScheme.replaceFirst("://:", "://127.0.0.1:");
    }
    try {
      URI uri = new URI(withScheme);
      boolean bare = uri.getRawPath() == null || uri.getRawPath().isEmpty();
      if (uri.getHost() == null || !bare || uri.getRawQuery() != null || uri.getRawFragment() != null
          || uri.getRawUserInfo() != null) {
        throw bad(address);
      }
      return uri;
    } catch (URISyntaxException e) {
      throw bad(address);
    }
  }

  private static String shown(String address) {
    String a = address == null ? "" : address.strip();
    return a.endsWith("/") ? a.substring(0, a.length() - 1) : a;
  }

  private ParameterException bad(String address) {
    return new ParameterException(micro.commandLine(), "Invalid value for option '--proxy_address': '" + address
        + "' (expected: host:port, http://host:port or https://host:port)");
  }
}
