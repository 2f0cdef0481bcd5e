package io.micro.sidecar.server.cli;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The global flags of the original (micro v0.7.1 and the go-micro of early 2018) that mean nothing
 * here (contract §1): accepted before the sub-command so that its launch lines start, and named in one
 * warning line. Values that ask for something absent ({@code --transport=grpc}, {@code --enable_acme})
 * are refused, naming what is supported.
 */
final class OriginalFlags {

  /** Flags of the original's own go-micro server and client plumbing; the app is {@code sidecar --server_name}. */
  private static final Set<String> IGNORED = Set.of("client", "server", "server_name", "server_version",
      "server_id", "server_address", "server_advertise", "server_metadata", "selector", "transport",
      "transport_address");
  /** The original's other sub-commands' flags ({@code micro api}, {@code micro web}); ours are named apart. */
  private static final List<String> IGNORED_PREFIXES = List.of("api_", "web_");
  private static final Set<String> OURS = Set.of("api_token", "api_token_open_reads");

  /** What is left for the parser, and the ignored flags as given. */
  record Scan(String[] args, Set<String> ignored) {}

  private OriginalFlags() {}

  /**
   * Takes the ignored flags (and their values) out of the global part of {@code args}, up to the first
   * argument that is not a flag (the sub-command, one of {@code commands}).
   *
   * @throws IllegalArgumentException for a flag whose value asks for something absent
   */
  static Scan scan(String[] args, Set<String> commands) {
    List<String> kept = new ArrayList<>();
    Set<String> ignored = new LinkedHashSet<>();
    int i = 0;
    for (; i < args.length && args[i].startsWith("-"); i++) {
      String arg = args[i];
      String flag = arg.replaceFirst("^-+", "");
      String name = flag.contains("=") ? flag.substring(0, flag.indexOf('=')) : flag;
      String value = flag.contains("=") ? flag.substring(flag.indexOf('=') + 1) : null;
      String key = name.toLowerCase(Locale.ROOT);
      if (key.equals("enable_acme")) {
        throw new IllegalArgumentException("--enable_acme: ACME certificates are not supported here"
            + " (expected: --enable_tls with --tls_cert_file and --tls_key_file)");
      }
      if (!IGNORED.contains(key) && !(IGNORED_PREFIXES.stream().anyMatch(key::startsWith) && !OURS.contains(key))) {
        kept.add(arg);
        continue;
      }
      if (value == null && i + 1 < args.length && !args[i + 1].startsWith("-") && !commands.contains(args[i + 1])) {
        // '--selector cache sidecar': the next word is the value, unless it is the sub-command itself
        value = args[++i];
      }
      if (key.equals("transport") && value != null && !value.equalsIgnoreCase("http")) {
        throw new IllegalArgumentException("Invalid value for option '--transport': '" + value
            + "' (expected: http; the sidecar calls apps over HTTP only)");
      }
      ignored.add("--" + name);
    }
    for (; i < args.length; i++) {
      kept.add(args[i]);
    }
    return new Scan(kept.toArray(new String[0]), ignored);
  }
}
