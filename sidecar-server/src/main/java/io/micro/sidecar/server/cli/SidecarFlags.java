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
import io.micro.sidecar.server.cli.Flag.Kind;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** {@code micro sidecar}'s flags, and the configuration they make with the global ones. */
final class SidecarFlags {

  static final String COMMAND = "sidecar";

  static final Flag ADDRESS = Flag.of(Kind.TEXT, "--address", "<host:port>", ":8081",
      "Address to listen on; an empty host means every interface. Env MICRO_SIDECAR_ADDRESS. Default: ${DEFAULT-VALUE}.");

  static final Flag SERVER_NAME = Flag.of(Kind.TEXT, "--server_name", "<name>", null,
      "Name of the app to register at start (needs --server_address). Env MICRO_SIDECAR_SERVER_NAME.");

  static final Flag SERVER_ADDRESS = Flag.of(Kind.TEXT, "--server_address", "<host:port>", null,
      "Address of the app to register at start (needs --server_name). Env MICRO_SIDECAR_SERVER_ADDRESS.");

  static final Flag HANDLER = Flag.of(Kind.TEXT, "--handler", "<rpc|proxy>", "rpc",
      "Catch-all route: rpc (path -> service and method, JSON-RPC to the app) or proxy (plain HTTP reverse proxy). Env MICRO_SIDECAR_HANDLER. Default: ${DEFAULT-VALUE}.");

  static final Flag NAMESPACE = Flag.of(Kind.TEXT, "--namespace", "<namespace>", SidecarConfig.DEFAULT_NAMESPACE,
      "Namespace of services reached by the catch-all route. Env MICRO_SIDECAR_NAMESPACE. Default: ${DEFAULT-VALUE}.");

  static final Flag HEALTHCHECK_URL = Flag.of(Kind.TEXT, "--healthcheck_url", "<url>", null,
      "The app's health URL, probed with GET; 200 is healthy. Needs --server_name. Env MICRO_SIDECAR_HEALTHCHECK_URL.");

  static final Flag HEALTHCHECK_INTERVAL = Flag.of(Kind.DURATION, "--healthcheck_interval", "<duration>", "5s",
      "Time between health probes. Env MICRO_SIDECAR_HEALTHCHECK_INTERVAL. Default: ${DEFAULT-VALUE}.");

  static final Flag HEALTHCHECK_TIMEOUT = Flag.of(Kind.DURATION, "--healthcheck_timeout", "<duration>", "1s",
      "A probe not answered in this long failed. Env MICRO_SIDECAR_HEALTHCHECK_TIMEOUT. Default: ${DEFAULT-VALUE}.");

  static final Flag HEALTHCHECK_FAILURE_THRESHOLD = Flag.of(Kind.INT, "--healthcheck_failure_threshold", "<n>", "3",
      "Consecutive failed probes that deregister the app. Env MICRO_SIDECAR_HEALTHCHECK_FAILURE_THRESHOLD. Default: ${DEFAULT-VALUE}.");

  static final Flag HEALTHCHECK_SUCCESS_THRESHOLD = Flag.of(Kind.INT, "--healthcheck_success_threshold", "<n>", "1",
      "Consecutive good probes that register it again. Env MICRO_SIDECAR_HEALTHCHECK_SUCCESS_THRESHOLD. Default: ${DEFAULT-VALUE}.");

  static final Flag REGISTER_TTL = Flag.of(Kind.DURATION, "--register_ttl", "<duration>", "15s",
      "TTL of the registrations the sidecar keeps alive (etcd): a crashed sidecar's app vanishes within it. Env MICRO_SIDECAR_REGISTER_TTL. Default: ${DEFAULT-VALUE}.");

  static final Flag SHUTDOWN_DELAY = Flag.of(Kind.DURATION, "--shutdown_delay", "<duration>", "2s",
      "On SIGTERM, keep serving this long after deregistering the app. Env MICRO_SIDECAR_SHUTDOWN_DELAY. Default: ${DEFAULT-VALUE}.");

  static final Flag SHUTDOWN_GRACE = Flag.of(Kind.DURATION, "--shutdown_grace", "<duration>", "15s",
      "The most a shutdown takes; what is left after it is forced. Env MICRO_SIDECAR_SHUTDOWN_GRACE. Default: ${DEFAULT-VALUE}.");

  static final Flag BROKER_BUFFER = Flag.of(Kind.INT, "--broker_buffer", "<messages>", String.valueOf(BrokerConfig.DEFAULT_BUFFER_SIZE),
      "Most messages held for one in-process subscriber of an embedded broker (WebSocket subscribers are bounded by --broker_pending_bytes). Env MICRO_SIDECAR_BROKER_BUFFER. Default: ${DEFAULT-VALUE}.");

  static final Flag BROKER_OVERFLOW = Flag.of(Kind.TEXT, "--broker_overflow", "<drop_oldest|close>", "drop_oldest",
      "When a subscriber is past its pending bytes: drop its oldest messages (counted), or close it (WebSocket 1013). Env MICRO_SIDECAR_BROKER_OVERFLOW. Default: ${DEFAULT-VALUE}.");

  static final Flag BROKER_PENDING_BYTES = Flag.of(Kind.LONG, "--broker_pending_bytes", "<bytes>", String.valueOf(BrokerConfig.DEFAULT_PENDING_BYTES),
      "Most bytes queued for one WebSocket subscriber's socket; past it --broker_overflow applies. Env MICRO_SIDECAR_BROKER_PENDING_BYTES. Default: ${DEFAULT-VALUE} (32 MiB).");

  static final Flag BROKER_MAX_PENDING_BYTES = Flag.of(Kind.LONG, "--broker_max_pending_bytes", "<bytes>", String.valueOf(BrokerConfig.DEFAULT_MAX_PENDING_BYTES),
      "Most bytes queued for all WebSocket subscribers together; past it those with the most pending are closed (1013) first. Env MICRO_SIDECAR_BROKER_MAX_PENDING_BYTES. Default: ${DEFAULT-VALUE} (64 MiB).");

  static final Flag CORS = Flag.of(Kind.TEXT, "--cors", "<origins>", "*",
      "Comma-separated allowed origins, or *; also checked on WebSocket upgrades. Env MICRO_SIDECAR_CORS. Default: ${DEFAULT-VALUE}.");

  static final Flag CORS_CREDENTIALS = Flag.of(Kind.BOOL, "--cors_credentials", "<true|false>", "false",
      "Add Access-Control-Allow-Credentials: true for allowed origins (the original always did; off by default, see docs/security.md). Env MICRO_SIDECAR_CORS_CREDENTIALS. Default: ${DEFAULT-VALUE}.");

  static final Flag MAX_BODY_SIZE = Flag.of(Kind.INT, "--max_body_size", "<bytes>", String.valueOf(SidecarConfig.DEFAULT_MAX_BODY_BYTES),
      "Largest request body read (413 above). Env MICRO_SIDECAR_MAX_BODY_SIZE. Default: ${DEFAULT-VALUE}.");

  static final Flag MAX_HEADER_SIZE = Flag.of(Kind.INT, "--max_header_size", "<bytes>", "16384",
      "Largest request header block (431 above). Env MICRO_SIDECAR_MAX_HEADER_SIZE. Default: ${DEFAULT-VALUE}.");

  static final Flag MAX_URL_LENGTH = Flag.of(Kind.INT, "--max_url_length", "<bytes>", "8192",
      "Longest request line (414 above). Env MICRO_SIDECAR_MAX_URL_LENGTH. Default: ${DEFAULT-VALUE}.");

  static final Flag HEADER_TIMEOUT = Flag.of(Kind.DURATION, "--header_timeout", "<duration>", "10s",
      "A request's headers must arrive within this (slow clients are dropped). Env MICRO_SIDECAR_HEADER_TIMEOUT. Default: ${DEFAULT-VALUE}.");

  static final Flag BODY_TIMEOUT = Flag.of(Kind.DURATION, "--body_timeout", "<duration>", "30s",
      "Longest pause while a request body arrives (slower bodies are cut). Env MICRO_SIDECAR_BODY_TIMEOUT. Default: ${DEFAULT-VALUE}.");

  static final Flag MAX_BUFFERED_BYTES = Flag.of(Kind.LONG, "--max_buffered_bytes", "<bytes>", String.valueOf(LimitsConfig.DEFAULT_MAX_BUFFERED_BYTES),
      "Bodies being read and answers not yet taken by clients, together; past it such work gets 503. Env MICRO_SIDECAR_MAX_BUFFERED_BYTES. Default: ${DEFAULT-VALUE}.");

  static final Flag IDLE_TIMEOUT = Flag.of(Kind.DURATION, "--idle_timeout", "<duration>", "60s",
      "Idle keep-alive connections are closed after this. Env MICRO_SIDECAR_IDLE_TIMEOUT. Default: ${DEFAULT-VALUE}.");

  static final Flag MAX_CONNECTIONS = Flag.of(Kind.INT, "--max_connections", "<n>", "10000",
      "Most open client connections; more are closed at once. Env MICRO_SIDECAR_MAX_CONNECTIONS. Default: ${DEFAULT-VALUE}.");

  static final Flag ENABLE_METRICS = Flag.of(Kind.BOOL, "--enable_metrics", "<true|false>", "true",
      "Serve Prometheus metrics at /metrics. Env MICRO_SIDECAR_ENABLE_METRICS. Default: ${DEFAULT-VALUE}.");

  static final Flag ACCESS_LOG = Flag.of(Kind.BOOL, "--access_log", "<true|false>", "true",
      "One line per request (method, path, status, bytes, duration) on the logger 'access'. Env MICRO_SIDECAR_ACCESS_LOG. Default: ${DEFAULT-VALUE}.");

  static final Flag TRACE_CREATE = Flag.of(Kind.BOOL, "--trace_create", "<true|false>", "false",
      "Create a W3C traceparent when a request has none, and give calls to apps a child span id. Env MICRO_SIDECAR_TRACE_CREATE. Default: ${DEFAULT-VALUE}.");

  static final Flag ADVERTISE_ADDRESS = Flag.of(Kind.TEXT, "--advertise_address", "<host>", null,
      "Host other sidecars reach this one at under --broker=http. Env MICRO_SIDECAR_ADVERTISE_ADDRESS. Default: the --address host, or 127.0.0.1 when listening on every interface.");

  static final Flag IO_BACKEND = Flag.of(Kind.TEXT, "--io_backend", "<auto|io_uring|epoll|nio>", "auto",
      "Kernel interface of the event loops: auto is epoll (nio where there is none); io_uring costs less CPU when saturated, adds to the tail at moderate rates. Env MICRO_SIDECAR_IO_BACKEND. Default: ${DEFAULT-VALUE}.");

  /** Every sidecar flag, in the order {@code micro sidecar --help} lists them. */
  static final List<Flag> ALL = List.of(ADDRESS, SERVER_NAME, SERVER_ADDRESS, HANDLER, NAMESPACE, HEALTHCHECK_URL,
      HEALTHCHECK_INTERVAL, HEALTHCHECK_TIMEOUT, HEALTHCHECK_FAILURE_THRESHOLD, HEALTHCHECK_SUCCESS_THRESHOLD,
      REGISTER_TTL, SHUTDOWN_DELAY, SHUTDOWN_GRACE, BROKER_BUFFER, BROKER_OVERFLOW, BROKER_PENDING_BYTES,
      BROKER_MAX_PENDING_BYTES, CORS, CORS_CREDENTIALS, MAX_BODY_SIZE, MAX_HEADER_SIZE, MAX_URL_LENGTH, HEADER_TIMEOUT,
      BODY_TIMEOUT, MAX_BUFFERED_BYTES, IDLE_TIMEOUT, MAX_CONNECTIONS, ENABLE_METRICS, ACCESS_LOG, TRACE_CREATE,
      ADVERTISE_ADDRESS, IO_BACKEND);

  private SidecarFlags() {}

  /**
   * The configuration the global flags ({@code micro}) and the sidecar's make.
   *
   * @throws InvalidFlagException naming the flag whose value the configuration cannot take
   */
  static SidecarConfig config(FlagValues micro, FlagValues sidecar) {
    try {
      return build(micro, sidecar);
    } catch (InvalidSettingException e) {
      // the configuration records validate; they name the setting as its flag does
      throw InvalidFlagException.setting(e.setting(), e.getMessage());
    }
  }

  private static SidecarConfig build(FlagValues micro, FlagValues sidecar) {
    // the original's global forms (micro --sidecar_address=.. sidecar) act unless the sidecar flag is given
    String address = sidecarOrGlobal(sidecar, ADDRESS, sidecar.text(ADDRESS), micro.text(GlobalFlags.SIDECAR_ADDRESS));
    String handler = sidecarOrGlobal(sidecar, HANDLER, sidecar.text(HANDLER), micro.text(GlobalFlags.SIDECAR_HANDLER));
    String namespace = sidecarOrGlobal(sidecar, NAMESPACE, sidecar.text(NAMESPACE), micro.text(GlobalFlags.SIDECAR_NAMESPACE));
    String cors = sidecarOrGlobal(sidecar, CORS, sidecar.text(CORS), micro.text(GlobalFlags.SIDECAR_CORS));
    Duration registerTtl = sidecarOrGlobal(sidecar, REGISTER_TTL, sidecar.duration(REGISTER_TTL),
        micro.duration(GlobalFlags.REGISTER_TTL));
    String advertiseAddress = sidecar.text(ADVERTISE_ADDRESS);
    String brokerAddress = micro.text(GlobalFlags.BROKER_ADDRESS);
    if (advertiseAddress == null && brokerAddress != null && !brokerAddress.isBlank()) {
      advertiseAddress = brokerHost(brokerAddress);
    }
    HostPort listen = hostPort(ADDRESS, address);
    String serverName = sidecar.text(SERVER_NAME);
    String serverAddress = sidecar.text(SERVER_ADDRESS);
    boolean named = serverName != null && !serverName.isBlank();
    boolean addressed = serverAddress != null && !serverAddress.isBlank();
    if (named != addressed) {
      throw new InvalidFlagException(named
          ? "--server_name is set but --server_address is not (expected: both, or neither)"
          : "--server_address is set but --server_name is not (expected: both, or neither)");
    }
    Optional<AppConfig> app = named
        ? Optional.of(new AppConfig(serverName, hostPort(SERVER_ADDRESS, serverAddress)))
        : Optional.empty();
    SidecarConfig.Handler kind = switch (handler.toLowerCase(Locale.ROOT)) {
      case "rpc" -> SidecarConfig.Handler.RPC;
      case "proxy" -> SidecarConfig.Handler.PROXY;
      default -> throw new InvalidFlagException(HANDLER, "'" + handler + "' (expected: rpc or proxy)");
    };
    String io = sidecar.text(IO_BACKEND);
    SidecarConfig.IoBackend ioBackend = switch (io.toLowerCase(Locale.ROOT)) {
      case "auto" -> SidecarConfig.IoBackend.AUTO;
      case "io_uring" -> SidecarConfig.IoBackend.IO_URING;
      case "epoll" -> SidecarConfig.IoBackend.EPOLL;
      case "nio" -> SidecarConfig.IoBackend.NIO;
      default -> throw new InvalidFlagException(IO_BACKEND, "'" + io + "' (expected: auto, io_uring, epoll or nio)");
    };
    if (namespace.isBlank() || namespace.contains("/") || namespace.chars().anyMatch(Character::isWhitespace)) {
      throw new InvalidFlagException(NAMESPACE, "'" + namespace + "' (expected: a dotted name like go.micro.srv)");
    }
    int maxBodySize = sidecar.integer(MAX_BODY_SIZE);
    if (maxBodySize < 1) {
      throw new InvalidFlagException(MAX_BODY_SIZE, maxBodySize + " (expected: a positive number of bytes)");
    }
    LimitsConfig limits = new LimitsConfig(sidecar.integer(MAX_HEADER_SIZE), sidecar.integer(MAX_URL_LENGTH),
        sidecar.duration(HEADER_TIMEOUT), sidecar.duration(BODY_TIMEOUT), sidecar.duration(IDLE_TIMEOUT),
        sidecar.integer(MAX_CONNECTIONS), sidecar.number(MAX_BUFFERED_BYTES));
    List<String> origins = Arrays.stream(cors.split(",")).map(String::trim)
        .filter(o -> !o.isEmpty()).toList();
    Duration registerInterval = micro.duration(GlobalFlags.REGISTER_INTERVAL);
    LifecycleConfig lifecycle = new LifecycleConfig(registerTtl, sidecar.duration(SHUTDOWN_DELAY),
        sidecar.duration(SHUTDOWN_GRACE),
        registerInterval == null ? LifecycleConfig.DEFAULT_REGISTER_INTERVAL : registerInterval);
    BrokerConfig broker = new BrokerConfig(sidecar.integer(BROKER_BUFFER), BrokerConfig.Overflow.of(sidecar.text(BROKER_OVERFLOW)))
        .withPending(sidecar.number(BROKER_PENDING_BYTES), sidecar.number(BROKER_MAX_PENDING_BYTES));
    if (GlobalFlags.brokerKind(micro) == BrokerConfig.Kind.HTTP) {
      broker = broker.withHttp(advertiseAddress);
    }
    return SidecarConfig.builder(listen).app(app).registry(GlobalFlags.registryConfig(micro)).maxBodyBytes(maxBodySize)
        .handler(kind).namespace(namespace).client(GlobalFlags.clientConfig(micro)).health(health(sidecar, named))
        .lifecycle(lifecycle).broker(broker)
        .security(GlobalFlags.securityConfig(micro, origins.isEmpty() ? List.of("*") : origins)
            .withCorsCredentials(sidecar.bool(CORS_CREDENTIALS)))
        .limits(limits).observability(new ObservabilityConfig(micro.bool(GlobalFlags.ENABLE_STATS),
            sidecar.bool(ENABLE_METRICS), sidecar.bool(ACCESS_LOG), sidecar.bool(TRACE_CREATE)))
        .ioBackend(ioBackend)
        .build();
  }

  private static <T> T sidecarOrGlobal(FlagValues sidecar, Flag flag, T own, T global) {
    return sidecar.given(flag) || global == null ? own : global;
  }

  /** {@code --broker_address} is {@code host:port} or {@code :port} in the original; only its host is advertised here. */
  private static String brokerHost(String brokerAddress) {
    String a = brokerAddress.trim();
    if (a.startsWith("[")) {
      int end = a.indexOf(']');
      return end > 0 ? a.substring(1, end) : a;
    }
    int colon = a.lastIndexOf(':');
    String host = colon >= 0 && a.indexOf(':') == colon ? a.substring(0, colon) : a;
    return host.isEmpty() ? null : host;
  }

  private static HealthConfig health(FlagValues sidecar, boolean appAttached) {
    HealthConfig health = new HealthConfig(Optional.empty(), sidecar.duration(HEALTHCHECK_INTERVAL),
        sidecar.duration(HEALTHCHECK_TIMEOUT), sidecar.integer(HEALTHCHECK_FAILURE_THRESHOLD),
        sidecar.integer(HEALTHCHECK_SUCCESS_THRESHOLD));
    String healthcheckUrl = sidecar.text(HEALTHCHECK_URL);
    if (healthcheckUrl == null || healthcheckUrl.isBlank()) {
      return health;
    }
    if (!appAttached) {
      throw new InvalidFlagException(
          "--healthcheck_url is set but --server_name is not (expected: an app to check, named by --server_name and --server_address)");
    }
    try {
      URI url = URI.create(healthcheckUrl);
      if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme()) || url.getHost() == null) {
        throw new IllegalArgumentException("not an http(s) URL");
      }
      return health.withUrl(url);
    } catch (IllegalArgumentException e) {
      throw new InvalidFlagException(HEALTHCHECK_URL, "'" + healthcheckUrl
          + "' (expected: an http URL like http://127.0.0.1:9090/health)");
    }
  }

  private static HostPort hostPort(Flag flag, String value) {
    try {
      return HostPort.parse(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidFlagException(flag, e.getMessage());
    }
  }
}
