package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SecurityConfig;
import io.micro.sidecar.server.cli.Flag.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** {@code micro}'s own flags, which stand before the command, and the parts of a sidecar's configuration they make. */
final class GlobalFlags {

  static final String COMMAND = "micro";

  static final Flag REGISTRY = Flag.of(Kind.TEXT, "--registry", "<memory|etcd>", "memory",
      "Registry: memory (embedded, this process only) or etcd (etcdv3, the original's name, is the same). Env MICRO_REGISTRY. Default: ${DEFAULT-VALUE}.");

  static final Flag REGISTRY_PREFIX = Flag.of(Kind.TEXT, "--registry_prefix", "<prefix>", RegistryConfig.DEFAULT_PREFIX,
      "etcd prefix registrations are written under: /micro-registry/ (the original's) or /micro/registry/ (go-micro 1.11 and later, host:port addresses); both are read. Env MICRO_REGISTRY_PREFIX. Default: ${DEFAULT-VALUE}.");

  static final Flag REGISTRY_ADDRESS = Flag.of(Kind.TEXT, "--registry_address", "<host:port,...>", null,
      "Comma-separated registry endpoints (etcd default 127.0.0.1:2379). Env MICRO_REGISTRY_ADDRESS.");

  static final Flag BROKER = Flag.of(Kind.TEXT, "--broker", "<memory|http>", "memory",
      "Broker: memory (this sidecar's subscribers only) or http (every sidecar sharing the registry, as go-micro's http broker). Env MICRO_BROKER. Default: ${DEFAULT-VALUE}.");

  static final Flag CLIENT_REQUEST_TIMEOUT = Flag.of(Kind.DURATION, "--client_request_timeout", "<duration>", "5s",
      "Deadline of one call to an app, retries included. Env MICRO_CLIENT_REQUEST_TIMEOUT. Default: ${DEFAULT-VALUE}.");

  static final Flag CLIENT_RETRIES = Flag.of(Kind.INT, "--client_retries", "<n>", "1",
      "Extra attempts on another node, only when the request never reached the app. Env MICRO_CLIENT_RETRIES. Default: ${DEFAULT-VALUE}.");

  static final Flag CLIENT_POOL_SIZE = Flag.of(Kind.INT, "--client_pool_size", "<n>", "128",
      "Most pooled connections to one app node. Env MICRO_CLIENT_POOL_SIZE. Default: ${DEFAULT-VALUE}.");

  static final Flag CLIENT_IDLE_TIMEOUT = Flag.of(Kind.DURATION, "--client_idle_timeout", "<duration>", "4s",
      "Idle pooled connections to apps are closed after this (below Node.js's 5s keep-alive). Env MICRO_CLIENT_IDLE_TIMEOUT. Default: ${DEFAULT-VALUE}.");

  static final Flag CLIENT_EJECT_AFTER = Flag.of(Kind.INT, "--client_eject_after", "<n>", "5",
      "Consecutive failures that eject an app node. Env MICRO_CLIENT_EJECT_AFTER. Default: ${DEFAULT-VALUE}.");

  static final Flag CLIENT_EJECT_FOR = Flag.of(Kind.DURATION, "--client_eject_for", "<duration>", "30s",
      "How long an ejected node gets no calls. Env MICRO_CLIENT_EJECT_FOR. Default: ${DEFAULT-VALUE}.");

  static final Flag CLIENT_POOL_TTL = Flag.of(Kind.DURATION, "--client_pool_ttl", "<duration>", null,
      "A pooled connection to an app is not reused once this old (go-micro's flag). Env MICRO_CLIENT_POOL_TTL. Default: no limit.");

  static final Flag REGISTER_TTL = Flag.of(Kind.SECONDS, "--register_ttl", "<seconds>", null,
      "The original's global form of 'sidecar --register_ttl', in whole seconds. Env MICRO_REGISTER_TTL.");

  static final Flag REGISTER_INTERVAL = Flag.of(Kind.SECONDS, "--register_interval", "<seconds>", null,
      "How often the app's registration is checked for and restored, in whole seconds. Env MICRO_REGISTER_INTERVAL. Default: 10.");

  static final Flag SIDECAR_ADDRESS = Flag.of(Kind.TEXT, "--sidecar_address", "<host:port>", null,
      "The original's global form of 'sidecar --address'. Env MICRO_SIDECAR_ADDRESS.");

  static final Flag SIDECAR_HANDLER = Flag.of(Kind.TEXT, "--sidecar_handler", "<rpc|proxy>", null,
      "The original's global form of 'sidecar --handler'.");

  static final Flag SIDECAR_NAMESPACE = Flag.of(Kind.TEXT, "--sidecar_namespace", "<namespace>", null,
      "The original's global form of 'sidecar --namespace'.");

  static final Flag SIDECAR_CORS = Flag.of(Kind.TEXT, "--sidecar_cors", "<origins>", null,
      "The original's global form of 'sidecar --cors'.");

  static final Flag BROKER_ADDRESS = Flag.of(Kind.TEXT, "--broker_address", "<host[:port]>", null,
      "With --broker=http: the host other sidecars reach this one at (its host part). Env MICRO_BROKER_ADDRESS.");

  static final Flag ENABLE_TLS = Flag.of(Kind.BOOL, "--enable_tls", "<true|false>", "false",
      "Serve HTTPS and WSS; needs --tls_cert_file and --tls_key_file. Env MICRO_ENABLE_TLS.");

  static final Flag TLS_CERT_FILE = Flag.of(Kind.PATH, "--tls_cert_file", "<pem>", null,
      "Server certificate chain (PEM). Env MICRO_TLS_CERT_FILE.");

  static final Flag TLS_KEY_FILE = Flag.of(Kind.PATH, "--tls_key_file", "<pem>", null,
      "Server private key (PKCS#8 PEM). Env MICRO_TLS_KEY_FILE.");

  static final Flag TLS_CLIENT_CA_FILE = Flag.of(Kind.PATH, "--tls_client_ca_file", "<pem>", null,
      "Require client certificates signed by this CA (mutual TLS). Env MICRO_TLS_CLIENT_CA_FILE.");

  static final Flag CLIENT_TLS_CA_FILE = Flag.of(Kind.PATH, "--client_tls_ca_file", "<pem>", null,
      "Call apps over HTTPS, trusting this CA. Env MICRO_CLIENT_TLS_CA_FILE.");

  static final Flag CLIENT_TLS_CERT_FILE = Flag.of(Kind.PATH, "--client_tls_cert_file", "<pem>", null,
      "Certificate chain (PEM) presented to other sidecars serving mutual TLS (--broker=http). Env MICRO_CLIENT_TLS_CERT_FILE.");

  static final Flag CLIENT_TLS_KEY_FILE = Flag.of(Kind.PATH, "--client_tls_key_file", "<pem>", null,
      "Private key (PKCS#8 PEM) of --client_tls_cert_file. Env MICRO_CLIENT_TLS_KEY_FILE.");

  static final Flag API_TOKEN = Flag.of(Kind.TEXT, "--api_token", "<token>", null,
      "Require 'Authorization: Bearer <token>' on every route that changes state (and on reads unless --api_token_open_reads). Env MICRO_API_TOKEN.");

  static final Flag API_TOKEN_OPEN_READS = Flag.of(Kind.BOOL, "--api_token_open_reads", "<true|false>", "false",
      "With --api_token, let reads (GET) through without it. Env MICRO_API_TOKEN_OPEN_READS.");

  static final Flag ENABLE_STATS = Flag.of(Kind.BOOL, "--enable_stats", "<true|false>", "false",
      "Serve /stats: JSON counters and a live HTML dashboard. Env MICRO_ENABLE_STATS. Default: ${DEFAULT-VALUE}.");

  /** Every global flag, in the order {@code --help} lists them. */
  static final List<Flag> ALL = List.of(REGISTRY, REGISTRY_PREFIX, REGISTRY_ADDRESS, BROKER, CLIENT_REQUEST_TIMEOUT,
      CLIENT_RETRIES, CLIENT_POOL_SIZE, CLIENT_IDLE_TIMEOUT, CLIENT_EJECT_AFTER, CLIENT_EJECT_FOR, CLIENT_POOL_TTL,
      REGISTER_TTL, REGISTER_INTERVAL, SIDECAR_ADDRESS, SIDECAR_HANDLER, SIDECAR_NAMESPACE, SIDECAR_CORS,
      BROKER_ADDRESS, ENABLE_TLS, TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE, CLIENT_TLS_CA_FILE,
      CLIENT_TLS_CERT_FILE, CLIENT_TLS_KEY_FILE, API_TOKEN, API_TOKEN_OPEN_READS, ENABLE_STATS);

  private GlobalFlags() {}

  static ClientConfig clientConfig(FlagValues micro) {
    Duration poolTtl = micro.duration(CLIENT_POOL_TTL);
    return new ClientConfig(micro.duration(CLIENT_REQUEST_TIMEOUT), micro.integer(CLIENT_RETRIES),
        micro.integer(CLIENT_POOL_SIZE), micro.duration(CLIENT_IDLE_TIMEOUT), micro.integer(CLIENT_EJECT_AFTER),
        micro.duration(CLIENT_EJECT_FOR), poolTtl == null ? Duration.ZERO : poolTtl);
  }

  /** TLS, token and app trust from the global flags; CORS is the sidecar command's. */
  static SecurityConfig securityConfig(FlagValues micro, List<String> cors) {
    SecurityConfig security = SecurityConfig.DEFAULT.withCors(cors);
    Path cert = micro.path(TLS_CERT_FILE);
    Path key = micro.path(TLS_KEY_FILE);
    Path clientCa = micro.path(TLS_CLIENT_CA_FILE);
    if (micro.bool(ENABLE_TLS)) {
      if (cert == null || key == null) {
        throw InvalidFlagException.global(
            "--enable_tls needs --tls_cert_file and --tls_key_file (expected: PEM files of the server's certificate and key)");
      }
      readable(TLS_CERT_FILE, cert);
      readable(TLS_KEY_FILE, key);
      if (clientCa != null) {
        readable(TLS_CLIENT_CA_FILE, clientCa);
      }
      security = security.withTls(new SecurityConfig.Tls(cert, key, Optional.ofNullable(clientCa)));
    } else if (cert != null || key != null || clientCa != null) {
      throw InvalidFlagException.global(
          "--tls_cert_file, --tls_key_file and --tls_client_ca_file need --enable_tls (expected: --enable_tls to serve HTTPS)");
    }
    Path appCa = micro.path(CLIENT_TLS_CA_FILE);
    if (appCa != null) {
      readable(CLIENT_TLS_CA_FILE, appCa);
      security = security.withAppTrust(appCa);
    }
    Path clientCert = micro.path(CLIENT_TLS_CERT_FILE);
    Path clientKey = micro.path(CLIENT_TLS_KEY_FILE);
    if ((clientCert == null) != (clientKey == null)) {
      throw InvalidFlagException.global(
          "--client_tls_cert_file and --client_tls_key_file go together (expected: both, or neither)");
    }
    if (clientCert != null) {
      readable(CLIENT_TLS_CERT_FILE, clientCert);
      readable(CLIENT_TLS_KEY_FILE, clientKey);
      security = security.withClientCert(new SecurityConfig.ClientCert(clientCert, clientKey));
    }
    String token = micro.text(API_TOKEN);
    if (token != null && !token.isEmpty()) {
      if (token.length() < 16) {
        throw new InvalidFlagException(API_TOKEN, "too short (expected: at least 16 characters)");
      }
      security = security.withApiToken(token, micro.bool(API_TOKEN_OPEN_READS));
    }
    return security;
  }

  private static void readable(Flag flag, Path file) {
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new InvalidFlagException(flag, "'" + file + "' is not a readable file");
    }
  }

  static RegistryConfig registryConfig(FlagValues micro) {
    RegistryConfig.Kind kind = RegistryConfig.Kind.of(micro.text(REGISTRY));
    String address = micro.text(REGISTRY_ADDRESS);
    List<String> addresses = address == null || address.isBlank()
        ? List.of() : Arrays.stream(address.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    return new RegistryConfig(kind, addresses, micro.text(REGISTRY_PREFIX));
  }

  static BrokerConfig.Kind brokerKind(FlagValues micro) {
    return BrokerConfig.Kind.of(micro.text(BROKER));
  }
}
