package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.config.AppConfig;
import io.micro.sidecar.core.config.HealthConfig;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.InvalidSettingException;
import io.micro.sidecar.core.config.LifecycleConfig;
import io.micro.sidecar.core.config.LimitsConfig;
import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code micro sidecar}: runs the sidecar until SIGTERM or SIGINT. */
@Command(name = SidecarCommand.NAME, mixinStandardHelpOptions = true, usageHelpWidth = 120, sortOptions = false,
    description = "Run the sidecar beside an app.",
    footer = {"", "Sidecar flags read MICRO_SIDECAR_<FLAG> when absent (e.g. MICRO_SIDECAR_SERVER_NAME)."})
final class SidecarCommand implements Callable<Integer> {

  static final String NAME = "sidecar";

  private final MicroCommand micro;
  private final ToIntFunction<SidecarConfig> runner;

  @Spec
  CommandSpec spec;

  @Option(names = "--address", paramLabel = "<host:port>", defaultValue = ":8081",
      description = "Address to listen on; an empty host means every interface. Env MICRO_SIDECAR_ADDRESS. Default: ${DEFAULT-VALUE}.")
  String address;

  @Option(names = "--server_name", paramLabel = "<name>",
      description = "Name of the app to register at start (needs --server_address). Env MICRO_SIDECAR_SERVER_NAME.")
  String serverName;

  @Option(names = "--server_address", paramLabel = "<host:port>",
      description = "Address of the app to register at start (needs --server_name). Env MICRO_SIDECAR_SERVER_ADDRESS.")
  String serverAddress;

  @Option(names = "--handler", paramLabel = "<rpc|proxy>", defaultValue = "rpc",
      description = "Catch-all route: rpc (path -> service and method, JSON-RPC to the app) or proxy (plain HTTP reverse proxy). Env MICRO_SIDECAR_HANDLER. Default: ${DEFAULT-VALUE}.")
  String handler;

  @Option(names = "--namespace", paramLabel = "<namespace>", defaultValue = SidecarConfig.DEFAULT_NAMESPACE,
      description = "Namespace of services reached by the catch-all route. Env MICRO_SIDECAR_NAMESPACE. Default: ${DEFAULT-VALUE}.")
  String namespace;

  @Option(names = "--healthcheck_url", paramLabel = "<url>",
      description = "The app's health URL, probed with GET; 200 is healthy. Needs --server_name. Env MICRO_SIDECAR_HEALTHCHECK_URL.")
  String healthcheckUrl;

  @Option(names = "--healthcheck_interval", paramLabel = "<duration>", defaultValue = "5s", converter = DurationConverter.class,
      description = "Time between health probes. Env MICRO_SIDECAR_HEALTHCHECK_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration healthcheckInterval;

  @Option(names = "--healthcheck_timeout", paramLabel = "<duration>", defaultValue = "1s", converter = DurationConverter.class,
      description = "A probe not answered in this long failed. Env MICRO_SIDECAR_HEALTHCHECK_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration healthcheckTimeout;

  @Option(names = "--healthcheck_failure_threshold", paramLabel = "<n>", defaultValue = "3",
      description = "Consecutive failed probes that deregister the app. Env MICRO_SIDECAR_HEALTHCHECK_FAILURE_THRESHOLD. Default: ${DEFAULT-VALUE}.")
  int healthcheckFailureThreshold;

  @Option(names = "--healthcheck_success_threshold", paramLabel = "<n>", defaultValue = "1",
      description = "Consecutive good probes that register it again. Env MICRO_SIDECAR_HEALTHCHECK_SUCCESS_THRESHOLD. Default: ${DEFAULT-VALUE}.")
  int healthcheckSuccessThreshold;

  @Option(names = "--register_ttl", paramLabel = "<duration>", defaultValue = "15s", converter = DurationConverter.class,
      description = "TTL of the registrations the sidecar keeps alive (etcd): a crashed sidecar's app vanishes within it. Env MICRO_SIDECAR_REGISTER_TTL. Default: ${DEFAULT-VALUE}.")
  Duration registerTtl;

  @Option(names = "--shutdown_delay", paramLabel = "<duration>", defaultValue = "2s", converter = DurationConverter.class,
      description = "On SIGTERM, keep serving this long after deregistering the app. Env MICRO_SIDECAR_SHUTDOWN_DELAY. Default: ${DEFAULT-VALUE}.")
  Duration shutdownDelay;

  @Option(names = "--shutdown_grace", paramLabel = "<duration>", defaultValue = "15s", converter = DurationConverter.class,
      description = "The most a shutdown takes; what is left after it is forced. Env MICRO_SIDECAR_SHUTDOWN_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration shutdownGrace;

  @Option(names = "--broker_buffer", paramLabel = "<messages>", defaultValue = "" + BrokerConfig.DEFAULT_BUFFER_SIZE,
      description = "Most messages held for one in-process subscriber of an embedded broker (WebSocket subscribers are bounded by --broker_pending_bytes). Env MICRO_SIDECAR_BROKER_BUFFER. Default: ${DEFAULT-VALUE}.")
  int brokerBuffer;

  @Option(names = "--broker_overflow", paramLabel = "<drop_oldest|close>", defaultValue = "drop_oldest",
      description = "When a subscriber is past its pending bytes: drop its oldest messages (counted), or close it (WebSocket 1013). Env MICRO_SIDECAR_BROKER_OVERFLOW. Default: ${DEFAULT-VALUE}.")
  String brokerOverflow;

  @Option(names = "--broker_pending_bytes", paramLabel = "<bytes>", defaultValue = "" + BrokerConfig.DEFAULT_PENDING_BYTES,
      description = "Most bytes queued for one WebSocket subscriber's socket; past it --broker_overflow applies. Env MICRO_SIDECAR_BROKER_PENDING_BYTES. Default: ${DEFAULT-VALUE} (32 MiB).")
  long brokerPendingBytes;

  @Option(names = "--broker_max_pending_bytes", paramLabel = "<bytes>", defaultValue = "" + BrokerConfig.DEFAULT_MAX_PENDING_BYTES,
      description = "Most bytes queued for all WebSocket subscribers together; past it those with the most pending are closed (1013) first. Env MICRO_SIDECAR_BROKER_MAX_PENDING_BYTES. Default: ${DEFAULT-VALUE} (64 MiB).")
  long brokerMaxPendingBytes;

  @Option(names = "--cors", paramLabel = "<origins>", defaultValue = "*",
      description = "Comma-separated allowed origins, or *; also checked on WebSocket upgrades. Env MICRO_SIDECAR_CORS. Default: ${DEFAULT-VALUE}.")
  String cors;

  @Option(names = "--cors_credentials", paramLabel = "<true|false>", arity = "0..1", fallbackValue = "true", defaultValue = "false",
      description = "Add Access-Control-Allow-Credentials: true for allowed origins (the original always did; off by default, see docs/security.md). Env MICRO_SIDECAR_CORS_CREDENTIALS. Default: ${DEFAULT-VALUE}.")
  boolean corsCredentials;

  @Option(names = "--max_body_size", paramLabel = "<bytes>", defaultValue = "" + SidecarConfig.DEFAULT_MAX_BODY_BYTES,
      description = "Largest request body read (413 above). Env MICRO_SIDECAR_MAX_BODY_SIZE. Default: ${DEFAULT-VALUE}.")
  int maxBodySize;

  @Option(names = "--max_header_size", paramLabel = "<bytes>", defaultValue = "16384",
      description = "Largest request header block (431 above). Env MICRO_SIDECAR_MAX_HEADER_SIZE. Default: ${DEFAULT-VALUE}.")
  int maxHeaderSize;

  @Option(names = "--max_url_length", paramLabel = "<bytes>", defaultValue = "8192",
      description = "Longest request line (414 above). Env MICRO_SIDECAR_MAX_URL_LENGTH. Default: ${DEFAULT-VALUE}.")
  int maxUrlLength;

  @Option(names = "--header_timeout", paramLabel = "<duration>", defaultValue = "10s", converter = DurationConverter.class,
      description = "A request's headers must arrive within this (slow clients are dropped). Env MICRO_SIDECAR_HEADER_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration headerTimeout;

  @Option(names = "--body_timeout", paramLabel = "<duration>", defaultValue = "30s", converter = DurationConverter.class,
      description = "Longest pause while a request body arrives (slower bodies are cut). Env MICRO_SIDECAR_BODY_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration bodyTimeout;

  @Option(names = "--max_buffered_bytes", paramLabel = "<bytes>", defaultValue = "" + LimitsConfig.DEFAULT_MAX_BUFFERED_BYTES,
      description = "Bodies being read and answers not yet taken by clients, together; past it such work gets 503. Env MICRO_SIDECAR_MAX_BUFFERED_BYTES. Default: ${DEFAULT-VALUE}.")
  long maxBufferedBytes;

  @Option(names = "--idle_timeout", paramLabel = "<duration>", defaultValue = "60s", converter = DurationConverter.class,
      description = "Idle keep-alive connections are closed after this. Env MICRO_SIDECAR_IDLE_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration idleTimeout;

  @Option(names = "--max_connections", paramLabel = "<n>", defaultValue = "10000",
      description = "Most open client connections; more are closed at once. Env MICRO_SIDECAR_MAX_CONNECTIONS. Default: ${DEFAULT-VALUE}.")
  int maxConnections;

  @Option(names = "--enable_metrics", paramLabel = "<true|false>", arity = "0..1", fallbackValue = "true", defaultValue = "true",
      description = "Serve Prometheus metrics at /metrics. Env MICRO_SIDECAR_ENABLE_METRICS. Default: ${DEFAULT-VALUE}.")
  boolean enableMetrics;

  @Option(names = "--access_log", paramLabel = "<true|false>", arity = "0..1", fallbackValue = "true", defaultValue = "true",
      description = "One line per request (method, path, status, bytes, duration) on the logger 'access'. Env MICRO_SIDECAR_ACCESS_LOG. Default: ${DEFAULT-VALUE}.")
  boolean accessLog;

  @Option(names = "--trace_create", paramLabel = "<true|false>", arity = "0..1", fallbackValue = "true", defaultValue = "false",
      description = "Create a W3C traceparent when a request has none, and give calls to apps a child span id. Env MICRO_SIDECAR_TRACE_CREATE. Default: ${DEFAULT-VALUE}.")
  boolean traceCreate;

  @Option(names = "--advertise_address", paramLabel = "<host>",
      description = "Host other sidecars reach this one at under --broker=http. Env MICRO_SIDECAR_ADVERTISE_ADDRESS. Default: the --address host, or 127.0.0.1 when listening on every interface.")
  String advertiseAddress;

  SidecarCommand(MicroCommand micro, ToIntFunction<SidecarConfig> runner) {
    this.micro = micro;
    this.runner = runner;
  }

  @Override
  public Integer call() {
    return runner.applyAsInt(config());
  }

  /** The configuration these flags describe. @throws ParameterException naming the bad flag */
  SidecarConfig config() {
    try {
      return build();
    } catch (InvalidSettingException e) {
      // the configuration records validate; they name the setting as its flag does
      throw new ParameterException(spec.commandLine(),
          "Invalid value for option '--" + e.setting() + "': " + e.getMessage());
    }
  }

  private SidecarConfig build() {
    // the original's global forms (micro --sidecar_address=.. sidecar) act unless the sidecar flag is given
    address = sidecarOrGlobal("--address", address, micro.sidecarAddress);
    handler = sidecarOrGlobal("--handler", handler, micro.sidecarHandler);
    namespace = sidecarOrGlobal("--namespace", namespace, micro.sidecarNamespace);
    cors = sidecarOrGlobal("--cors", cors, micro.sidecarCors);
    registerTtl = sidecarOrGlobal("--register_ttl", registerTtl, micro.registerTtl);
    if (advertiseAddress == null && micro.brokerAddress != null && !micro.brokerAddress.isBlank()) {
      advertiseAddress = brokerHost(micro.brokerAddress);
    }
    HostPort listen = hostPort("--address", address);
    boolean named = serverName != null && !serverName.isBlank();
    boolean addressed = serverAddress != null && !serverAddress.isBlank();
    if (named != addressed) {
      throw new ParameterException(spec.commandLine(), named
          ? "--server_name is set but --server_address is not (expected: both, or neither)"
          : "--server_address is set but --server_name is not (expected: both, or neither)");
    }
    Optional<AppConfig> app = named
        ? Optional.of(new AppConfig(serverName, hostPort("--server_address", serverAddress)))
        : Optional.empty();
    SidecarConfig.Handler kind = switch (handler.toLowerCase(Locale.ROOT)) {
      case "rpc" -> SidecarConfig.Handler.RPC;
      case "proxy" -> SidecarConfig.Handler.PROXY;
      default -> throw new ParameterException(spec.commandLine(),
          "Invalid value for option '--handler': '" + handler + "' (expected: rpc or proxy)");
    };
    if (namespace.isBlank() || namespace.contains("/") || namespace.chars().anyMatch(Character::isWhitespace)) {
      throw new ParameterException(spec.commandLine(),
          "Invalid value for option '--namespace': '" + namespace + "' (expected: a dotted name like go.micro.srv)");
    }
    if (maxBodySize < 1) {
      throw new ParameterException(spec.commandLine(),
          "Invalid value for option '--max_body_size': " + maxBodySize + " (expected: a positive number of bytes)");
    }
    LimitsConfig limits = new LimitsConfig(maxHeaderSize, maxUrlLength, headerTimeout, bodyTimeout, idleTimeout,
        maxConnections, maxBufferedBytes);
    List<String> origins = Arrays.stream(cors.split(",")).map(String::trim)
        .filter(o -> !o.isEmpty()).toList();
    return SidecarConfig.builder(listen).app(app).registry(micro.registryConfig()).maxBodyBytes(maxBodySize)
        .handler(kind).namespace(namespace).client(micro.clientConfig()).health(health(named)).lifecycle(lifecycle())
        .broker(brokerConfig())
        .security(micro.securityConfig(origins.isEmpty() ? List.of("*") : origins).withCorsCredentials(corsCredentials))
        .limits(limits).observability(new ObservabilityConfig(micro.enableStats, enableMetrics, accessLog, traceCreate))
        .build();
  }

  private <T> T sidecarOrGlobal(String flag, T sidecar, T global) {
    boolean given = spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption(flag);
    return given || global == null ? sidecar : global;
  }

  /** {@code --broker_address} is {@code host:port} or {@code :port} in the original; only its host is advertised here. */
  private String brokerHost(String brokerAddress) {
    String a = brokerAddress.trim();
    if (a.startsWith("[")) {
      int end = a.indexOf(']');
      return end > 0 ? a.substring(1, end) : a;
    }
    int colon = a.lastIndexOf(':');
    String host = colon >= 0 && a.indexOf(':') == colon ? a.substring(0, colon) : a;
    return host.isEmpty() ? null : host;
  }

  private HealthConfig health(boolean appAttached) {
    HealthConfig health = new HealthConfig(Optional.empty(), healthcheckInterval, healthcheckTimeout,
        healthcheckFailureThreshold, healthcheckSuccessThreshold);
    if (healthcheckUrl == null || healthcheckUrl.isBlank()) {
      return health;
    }
    if (!appAttached) {
      throw new ParameterException(spec.commandLine(),
          "--healthcheck_url is set but --server_name is not (expected: an app to check, named by --server_name and --server_address)");
    }
    try {
      URI url = URI.create(healthcheckUrl);
      if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme()) || url.getHost() == null) {
        throw new IllegalArgumentException("not an http(s) URL");
      }
      return health.withUrl(url);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--healthcheck_url': '"
          + healthcheckUrl + "' (expected: an http URL like http://127.0.0.1:9090/health)");
    }
  }

  private BrokerConfig brokerConfig() {
    BrokerConfig config = new BrokerConfig(brokerBuffer, BrokerConfig.Overflow.of(brokerOverflow))
        .withPending(brokerPendingBytes, brokerMaxPendingBytes);
    return micro.brokerKind() == BrokerConfig.Kind.HTTP ? config.withHttp(advertiseAddress) : config;
  }

  private LifecycleConfig lifecycle() {
    return new LifecycleConfig(registerTtl, shutdownDelay, shutdownGrace,
        micro.registerInterval == null ? LifecycleConfig.DEFAULT_REGISTER_INTERVAL : micro.registerInterval);
  }

  private HostPort hostPort(String flag, String value) {
    try {
      return HostPort.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '" + flag + "': " + e.getMessage());
    }
  }
}
