package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SecurityConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code micro}: the global flags, which stand before the sub-command. */
@Command(name = "micro", mixinStandardHelpOptions = true, version = "micro sidecar 0.1.0",
    usageHelpWidth = 120, sortOptions = false,
    description = "A sidecar that gives any app registration, discovery, RPC and pub/sub over plain HTTP.",
    footer = {"", "Every flag also reads an environment variable when absent: global flags MICRO_<FLAG>,",
        "sidecar flags MICRO_SIDECAR_<FLAG> (e.g. MICRO_REGISTRY=etcd, MICRO_SIDECAR_ADDRESS=:8081)."})
final class MicroCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Option(names = "--registry", paramLabel = "<memory|etcd>", defaultValue = "memory",
      description = "Registry: memory (embedded, this process only) or etcd (etcdv3, the original's name, is the same). Env MICRO_REGISTRY. Default: ${DEFAULT-VALUE}.")
  String registry;

  @Option(names = "--registry_prefix", paramLabel = "<prefix>", defaultValue = RegistryConfig.DEFAULT_PREFIX,
      description = "etcd prefix registrations are written under: /micro-registry/ (the original's) or /micro/registry/ (go-micro 1.11 and later, host:port addresses); both are read. Env MICRO_REGISTRY_PREFIX. Default: ${DEFAULT-VALUE}.")
  String registryPrefix;

  @Option(names = "--registry_address", paramLabel = "<host:port,...>",
      description = "Comma-separated registry endpoints (etcd default 127.0.0.1:2379). Env MICRO_REGISTRY_ADDRESS.")
  String registryAddress;

  @Option(names = "--broker", paramLabel = "<memory|http>", defaultValue = "memory",
      description = "Broker: memory (this sidecar's subscribers only) or http (every sidecar sharing the registry, as go-micro's http broker). Env MICRO_BROKER. Default: ${DEFAULT-VALUE}.")
  String broker;

  @Option(names = "--client_request_timeout", paramLabel = "<duration>", defaultValue = "5s",
      converter = DurationConverter.class,
      description = "Deadline of one call to an app, retries included. Env MICRO_CLIENT_REQUEST_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration clientRequestTimeout;

  @Option(names = "--client_retries", paramLabel = "<n>", defaultValue = "1",
      description = "Extra attempts on another node, only when the request never reached the app. Env MICRO_CLIENT_RETRIES. Default: ${DEFAULT-VALUE}.")
  int clientRetries;

  @Option(names = "--client_pool_size", paramLabel = "<n>", defaultValue = "128",
      description = "Most pooled connections to one app node. Env MICRO_CLIENT_POOL_SIZE. Default: ${DEFAULT-VALUE}.")
  int clientPoolSize;

  @Option(names = "--client_idle_timeout", paramLabel = "<duration>", defaultValue = "4s",
      converter = DurationConverter.class,
      description = "Idle pooled connections to apps are closed after this (below Node.js's 5s keep-alive). Env MICRO_CLIENT_IDLE_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration clientIdleTimeout;

  @Option(names = "--client_eject_after", paramLabel = "<n>", defaultValue = "5",
      description = "Consecutive failures that eject an app node. Env MICRO_CLIENT_EJECT_AFTER. Default: ${DEFAULT-VALUE}.")
  int clientEjectAfter;

  @Option(names = "--client_eject_for", paramLabel = "<duration>", defaultValue = "30s",
      converter = DurationConverter.class,
      description = "How long an ejected node gets no calls. Env MICRO_CLIENT_EJECT_FOR. Default: ${DEFAULT-VALUE}.")
  Duration clientEjectFor;

  @Option(names = "--client_pool_ttl", paramLabel = "<duration>", converter = DurationConverter.class,
      description = "A pooled connection to an app is not reused once this old (go-micro's flag). Env MICRO_CLIENT_POOL_TTL. Default: no limit.")
  Duration clientPoolTtl;

  @Option(names = "--register_ttl", paramLabel = "<seconds>", converter = SecondsConverter.class,
      description = "The original's global form of 'sidecar --register_ttl', in whole seconds. Env MICRO_REGISTER_TTL.")
  Duration registerTtl;

  @Option(names = "--register_interval", paramLabel = "<seconds>", converter = SecondsConverter.class,
      description = "How often the app's registration is checked for and restored, in whole seconds. Env MICRO_REGISTER_INTERVAL. Default: 10.")
  Duration registerInterval;

  @Option(names = "--sidecar_address", paramLabel = "<host:port>",
      description = "The original's global form of 'sidecar --address'. Env MICRO_SIDECAR_ADDRESS.")
  String sidecarAddress;

  @Option(names = "--sidecar_handler", paramLabel = "<rpc|proxy>",
      description = "The original's global form of 'sidecar --handler'.")
  String sidecarHandler;

  @Option(names = "--sidecar_namespace", paramLabel = "<namespace>",
      description = "The original's global form of 'sidecar --namespace'.")
  String sidecarNamespace;

  @Option(names = "--sidecar_cors", paramLabel = "<origins>",
      description = "The original's global form of 'sidecar --cors'.")
  String sidecarCors;

  @Option(names = "--broker_address", paramLabel = "<host[:port]>",
      description = "With --broker=http: the host other sidecars reach this one at (its host part). Env MICRO_BROKER_ADDRESS.")
  String brokerAddress;

  @Option(names = "--enable_tls", arity = "0..1", fallbackValue = "true", defaultValue = "false",
      description = "Serve HTTPS and WSS; needs --tls_cert_file and --tls_key_file. Env MICRO_ENABLE_TLS.")
  boolean enableTls;

  @Option(names = "--tls_cert_file", paramLabel = "<pem>",
      description = "Server certificate chain (PEM). Env MICRO_TLS_CERT_FILE.")
  Path tlsCertFile;

  @Option(names = "--tls_key_file", paramLabel = "<pem>",
      description = "Server private key (PKCS#8 PEM). Env MICRO_TLS_KEY_FILE.")
  Path tlsKeyFile;

  @Option(names = "--tls_client_ca_file", paramLabel = "<pem>",
      description = "Require client certificates signed by this CA (mutual TLS). Env MICRO_TLS_CLIENT_CA_FILE.")
  Path tlsClientCaFile;

  @Option(names = "--client_tls_ca_file", paramLabel = "<pem>",
      description = "Call apps over HTTPS, trusting this CA. Env MICRO_CLIENT_TLS_CA_FILE.")
  Path clientTlsCaFile;

  @Option(names = "--client_tls_cert_file", paramLabel = "<pem>",
      description = "Certificate chain (PEM) presented to other sidecars serving mutual TLS (--broker=http). Env MICRO_CLIENT_TLS_CERT_FILE.")
  Path clientTlsCertFile;

  @Option(names = "--client_tls_key_file", paramLabel = "<pem>",
      description = "Private key (PKCS#8 PEM) of --client_tls_cert_file. Env MICRO_CLIENT_TLS_KEY_FILE.")
  Path clientTlsKeyFile;

  @Option(names = "--api_token", paramLabel = "<token>",
      description = "Require 'Authorization: Bearer <token>' on every route that changes state (and on reads unless --api_token_open_reads). Env MICRO_API_TOKEN.")
  String apiToken;

  @Option(names = "--api_token_open_reads", arity = "0..1", fallbackValue = "true", defaultValue = "false",
      description = "With --api_token, let reads (GET) through without it. Env MICRO_API_TOKEN_OPEN_READS.")
  boolean apiTokenOpenReads;

  @Option(names = "--enable_stats", paramLabel = "<true|false>", arity = "0..1", fallbackValue = "true", defaultValue = "false",
      description = "Serve /stats: JSON counters and a live HTML dashboard. Env MICRO_ENABLE_STATS. Default: ${DEFAULT-VALUE}.")
  boolean enableStats;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  ClientConfig clientConfig() {
    return new ClientConfig(clientRequestTimeout, clientRetries, clientPoolSize, clientIdleTimeout,
        clientEjectAfter, clientEjectFor, clientPoolTtl == null ? Duration.ZERO : clientPoolTtl);
  }

  /** TLS, token and app trust from the global flags; CORS is the sidecar command's. */
  SecurityConfig securityConfig(List<String> cors) {
    SecurityConfig security = SecurityConfig.DEFAULT.withCors(cors);
    if (enableTls) {
      if (tlsCertFile == null || tlsKeyFile == null) {
        throw new ParameterException(spec.commandLine(),
            "--enable_tls needs --tls_cert_file and --tls_key_file (expected: PEM files of the server's certificate and key)");
      }
      readable("--tls_cert_file", tlsCertFile);
      readable("--tls_key_file", tlsKeyFile);
      if (tlsClientCaFile != null) {
        readable("--tls_client_ca_file", tlsClientCaFile);
      }
      security = security.withTls(new SecurityConfig.Tls(tlsCertFile, tlsKeyFile, Optional.ofNullable(tlsClientCaFile)));
    } else if (tlsCertFile != null || tlsKeyFile != null || tlsClientCaFile != null) {
      throw new ParameterException(spec.commandLine(),
          "--tls_cert_file, --tls_key_file and --tls_client_ca_file need --enable_tls (expected: --enable_tls to serve HTTPS)");
    }
    if (clientTlsCaFile != null) {
      readable("--client_tls_ca_file", clientTlsCaFile);
      security = security.withAppTrust(clientTlsCaFile);
    }
    if ((clientTlsCertFile == null) != (clientTlsKeyFile == null)) {
      throw new ParameterException(spec.commandLine(),
          "--client_tls_cert_file and --client_tls_key_file go together (expected: both, or neither)");
    }
    if (clientTlsCertFile != null) {
      readable("--client_tls_cert_file", clientTlsCertFile);
      readable("--client_tls_key_file", clientTlsKeyFile);
      security = security.withClientCert(new SecurityConfig.ClientCert(clientTlsCertFile, clientTlsKeyFile));
    }
    if (apiToken != null && !apiToken.isEmpty()) {
      if (apiToken.length() < 16) {
        throw new ParameterException(spec.commandLine(),
            "Invalid value for option '--api_token': too short (expected: at least 16 characters)");
      }
      security = security.withApiToken(apiToken, apiTokenOpenReads);
    }
    return security;
  }

  private void readable(String flag, Path file) {
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new ParameterException(spec.commandLine(),
          "Invalid value for option '" + flag + "': '" + file + "' is not a readable file");
    }
  }

  RegistryConfig registryConfig() {
    RegistryConfig.Kind kind = RegistryConfig.Kind.of(registry);
    List<String> addresses = registryAddress == null || registryAddress.isBlank()
        ? List.of() : Arrays.stream(registryAddress.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    return new RegistryConfig(kind, addresses, registryPrefix);
  }

  BrokerConfig.Kind brokerKind() {
    return BrokerConfig.Kind.of(broker);
  }
}
