package io.micro.sidecar.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.config.AppConfig;
import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.ObservabilityConfig;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class MicroCliTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private SidecarConfig started;

  private int run(Map<String, String> env, String... args) {
    return MicroCli.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true), config -> {
      started = config;
      return 0;
    });
  }

  private int run(String... args) {
    return run(Map.of(), args);
  }

  @Test
  void theCommandNamesMicroCliKnowsAreTheCommandsItHas() {
    // 'micro sidecar' is parsed without the CLI-only commands, so the names must be right without them
    CommandLine full = ProxyCommands.addTo(MicroCommand.create(c -> 0), false);
    assertThat(full.getSubcommands().keySet()).containsExactlyInAnyOrderElementsOf(MicroCli.COMMANDS);
  }

  @Test
  void onlyALineThatCertainlyStartsASidecarLeavesTheOtherCommandsOut() {
    assertThat(MicroCli.startsSidecar(new String[] {"sidecar", "--address=:9000"})).isTrue();
    assertThat(MicroCli.startsSidecar(new String[] {"--registry=etcd", "--proxy_address=h:1", "sidecar"})).isTrue();
    // a value apart from its flag is not looked into; a host called 'sidecar' is not the command
    assertThat(MicroCli.startsSidecar(new String[] {"--registry", "etcd", "sidecar"})).isFalse();
    assertThat(MicroCli.startsSidecar(new String[] {"--proxy_address", "sidecar", "list", "services"})).isFalse();
    assertThat(MicroCli.startsSidecar(new String[] {"list", "services"})).isFalse();
    assertThat(MicroCli.startsSidecar(new String[] {})).isFalse();
    assertThat(run("--proxy_address=127.0.0.1:1", "sidecar")).isZero();
    assertThat(started).isNotNull();
  }

  @Test
  void theOriginalsGlobalFlagsAct() {
    assertThat(run("--register_ttl=30", "--register_interval", "15", "--sidecar_address=127.0.0.1:8082",
        "--sidecar_handler=proxy", "--sidecar_namespace=go.micro.api", "--sidecar_cors=http://a.example",
        "--client_pool_size=4", "--client_pool_ttl=1m", "--broker=http", "--broker_address=10.0.0.5:8001",
        "sidecar")).isZero();
    assertThat(started.lifecycle().registerTtl()).isEqualTo(Duration.ofSeconds(30));
    assertThat(started.lifecycle().registerInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(started.listen()).isEqualTo(new HostPort("127.0.0.1", 8082));
    assertThat(started.handler()).isEqualTo(SidecarConfig.Handler.PROXY);
    assertThat(started.namespace()).isEqualTo("go.micro.api");
    assertThat(started.security().cors()).containsExactly("http://a.example");
    assertThat(started.client().poolSize()).isEqualTo(4);
    assertThat(started.client().poolTtl()).isEqualTo(Duration.ofMinutes(1));
    assertThat(started.broker().advertiseAddress()).isEqualTo("10.0.0.5");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void aSidecarFlagWinsOverItsGlobalForm() {
    assertThat(run("--sidecar_address=:8082", "--register_ttl=30", "sidecar", "--address=:8083", "--register_ttl=20s")).isZero();
    assertThat(started.listen()).isEqualTo(new HostPort("", 8083));
    assertThat(started.lifecycle().registerTtl()).isEqualTo(Duration.ofSeconds(20));
  }

  @Test
  void theOriginalsFlagsThatMeanNothingHereAreNamedInOneWarningLine() {
    assertThat(run("--server_name=x", "--selector", "cache", "--transport=http", "--api_address=:8080",
        "--web_namespace", "go.micro.web", "--server_metadata=a=b", "sidecar")).isZero();
    assertThat(err.toString().strip()).isEqualTo("micro: ignoring flags of the original micro that mean nothing here: "
        + "--server_name, --selector, --transport, --api_address, --web_namespace, --server_metadata");
    assertThat(started.app()).as("the global --server_name named the original's own server, not the app").isEmpty();
    // a value-less ignored flag right before the command does not swallow it
    assertThat(run("--selector", "sidecar", "--address=:8090")).isZero();
    assertThat(started.listen().port()).isEqualTo(8090);
  }

  @Test
  void etcdv3IsTheOriginalsNameForEtcdAndWhatIsAbsentIsRefused() {
    assertThat(run("--registry=etcdv3", "sidecar")).isZero();
    assertThat(started.registry().kind()).isEqualTo(RegistryConfig.Kind.ETCD);
    assertThat(run(Map.of("MICRO_REGISTRY", "etcdv3"), "sidecar")).isZero();
    assertThat(started.registry().kind()).isEqualTo(RegistryConfig.Kind.ETCD);
    assertThat(started.registry().prefix()).isEqualTo("/micro-registry/");
    assertThat(run("--registry=etcd", "--registry_prefix=/micro/registry/", "sidecar")).isZero();
    assertThat(started.registry().prefix()).isEqualTo("/micro/registry/");
    err.getBuffer().setLength(0);
    assertThat(run("--registry_prefix=/elsewhere/", "sidecar")).isEqualTo(2);
    assertThat(err.toString()).contains("'--registry_prefix': '/elsewhere/' (expected: /micro-registry/ or /micro/registry/)");
    err.getBuffer().setLength(0);
    assertThat(run("--registry=consul", "sidecar")).isEqualTo(2);
    assertThat(err.toString()).contains("'consul' (expected: memory, etcd or etcdv3");
    err.getBuffer().setLength(0);
    assertThat(run("--transport=grpc", "sidecar")).isEqualTo(2);
    assertThat(err.toString().strip()).isEqualTo(
        "micro: Invalid value for option '--transport': 'grpc' (expected: http; the sidecar calls apps over HTTP only)");
    err.getBuffer().setLength(0);
    assertThat(run("--enable_acme", "sidecar")).isEqualTo(2);
    assertThat(err.toString()).contains("--enable_acme: ACME certificates are not supported here");
  }

  @Test
  void defaultsListenOnEveryInterfaceAt8081WithTheMemoryRegistry() {
    assertThat(run("sidecar")).isZero();
    assertThat(started.listen()).isEqualTo(new HostPort("", 8081));
    assertThat(started.registry()).isEqualTo(RegistryConfig.memory());
    assertThat(started.app()).isEmpty();
  }

  @Test
  void noFlagsIsExactlyTheConfigRecordsDefaults() {
    assertThat(run("sidecar")).isZero();
    // defaults live in the config records; the command line must not have its own copies that drift
    assertThat(started).isEqualTo(SidecarConfig.of(SidecarConfig.DEFAULT_LISTEN));
  }

  @Test
  void acceptsEqualsAndSpaceFormsWithGlobalFlagsBeforeTheCommand() {
    assertThat(run("--registry", "memory", "sidecar", "--address", "127.0.0.1:9000",
        "--server_name=foo", "--server_address", "127.0.0.1:9090")).isZero();
    assertThat(started.listen()).isEqualTo(new HostPort("127.0.0.1", 9000));
    assertThat(started.app()).contains(new AppConfig("foo", new HostPort("127.0.0.1", 9090)));
  }

  @Test
  void readsEnvironmentVariablesWhereFlagsAreAbsent() {
    Map<String, String> env = Map.of(
        "MICRO_SIDECAR_ADDRESS", "127.0.0.1:7000",
        "MICRO_SIDECAR_SERVER_NAME", "foo",
        "MICRO_SIDECAR_SERVER_ADDRESS", "[::1]:9090",
        "MICRO_REGISTRY", "MEMORY",
        "MICRO_REGISTRY_ADDRESS", "a:1, b:2");
    assertThat(run(env, "sidecar")).isZero();
    assertThat(started.listen()).isEqualTo(new HostPort("127.0.0.1", 7000));
    assertThat(started.app()).contains(new AppConfig("foo", new HostPort("::1", 9090)));
    assertThat(started.registry().addresses()).containsExactly("a:1", "b:2");
  }

  @Test
  void etcdTakesItsEndpointsFromFlagOrEnvironment() {
    assertThat(run("--registry=etcd", "--registry_address", "10.0.0.1:2379,10.0.0.2:2379", "sidecar")).isZero();
    assertThat(started.registry()).isEqualTo(new RegistryConfig(RegistryConfig.Kind.ETCD,
        List.of("10.0.0.1:2379", "10.0.0.2:2379")));
    assertThat(run(Map.of("MICRO_REGISTRY", "etcd"), "sidecar")).isZero();
    assertThat(started.registry().kind()).isEqualTo(RegistryConfig.Kind.ETCD);
  }

  @Test
  void clientAndCatchAllFlagsUseGoDurationsAndTheirEnvironmentVariables() {
    assertThat(run(Map.of("MICRO_CLIENT_RETRIES", "3", "MICRO_SIDECAR_NAMESPACE", "com.example"),
        "--client_request_timeout=1m30s", "--client_eject_for", "500ms", "sidecar", "--handler=proxy")).isZero();
    assertThat(started.client()).isEqualTo(new ClientConfig(Duration.ofSeconds(90), 3, 128, Duration.ofSeconds(4),
        5, Duration.ofMillis(500), Duration.ZERO));
    assertThat(started.handler()).isEqualTo(SidecarConfig.Handler.PROXY);
    assertThat(started.namespace()).isEqualTo("com.example");

    assertThat(run("sidecar")).isZero();
    assertThat(started.client()).isEqualTo(ClientConfig.DEFAULT);
    assertThat(started.handler()).isEqualTo(SidecarConfig.Handler.RPC);
    assertThat(started.namespace()).isEqualTo("go.micro.srv");
  }

  @Test
  void theIoBackendIsAutoUnlessTheFlagOrItsVariableNamesOne() {
    assertThat(run("sidecar")).isZero();
    assertThat(started.ioBackend()).isEqualTo(SidecarConfig.IoBackend.AUTO);
    assertThat(run("sidecar", "--io_backend=epoll")).isZero();
    assertThat(started.ioBackend()).isEqualTo(SidecarConfig.IoBackend.EPOLL);
    assertThat(run(Map.of("MICRO_SIDECAR_IO_BACKEND", "io_uring"), "sidecar")).isZero();
    assertThat(started.ioBackend()).isEqualTo(SidecarConfig.IoBackend.IO_URING);
    assertThat(run(Map.of("MICRO_SIDECAR_IO_BACKEND", "io_uring"), "sidecar", "--io_backend", "NIO")).isZero();
    assertThat(started.ioBackend()).isEqualTo(SidecarConfig.IoBackend.NIO);
    started = null;
    assertThat(run("sidecar", "--io_backend=kqueue")).isEqualTo(2);
    assertOneLine("'--io_backend': 'kqueue' (expected: auto, io_uring, epoll or nio)");
    assertThat(started).isNull();
  }

  @Test
  void badClientValuesNameTheFlag() {
    assertThat(run("--client_request_timeout=5", "sidecar")).isEqualTo(2);
    assertOneLine("'--client_request_timeout': '5' is not a duration");
    err.getBuffer().setLength(0);
    assertThat(run("--client_request_timeout=-1s", "sidecar")).isEqualTo(2);
    assertOneLine("'--client_request_timeout': '-1s' (expected: a positive duration");
    err.getBuffer().setLength(0);
    assertThat(run("--client_retries=-1", "sidecar")).isEqualTo(2);
    assertOneLine("'--client_retries': retries -1");
    err.getBuffer().setLength(0);
    assertThat(run("--client_retries=many", "sidecar")).isEqualTo(2);
    assertOneLine("--client_retries");
    err.getBuffer().setLength(0);
    assertThat(run("sidecar", "--handler=grpc")).isEqualTo(2);
    assertOneLine("'--handler': 'grpc' (expected: rpc or proxy)");
    assertThat(started).isNull();
  }

  @Test
  void aFlagWinsOverItsEnvironmentVariable() {
    assertThat(run(Map.of("MICRO_SIDECAR_ADDRESS", "127.0.0.1:7000"), "sidecar", "--address=:7001")).isZero();
    assertThat(started.listen()).isEqualTo(new HostPort("", 7001));
  }

  @Test
  void onlyOneOfServerNameAndAddressIsAnErrorNamingTheMissingFlag() {
    assertThat(run("sidecar", "--server_name=foo")).isEqualTo(2);
    assertThat(started).isNull();
    assertOneLine("--server_name is set but --server_address is not");

    err.getBuffer().setLength(0);
    assertThat(run(Map.of("MICRO_SIDECAR_SERVER_ADDRESS", "127.0.0.1:1"), "sidecar")).isEqualTo(2);
    assertOneLine("--server_address is set but --server_name is not");
  }

  @Test
  void badValuesNameTheFlagAndTheValue() {
    assertThat(run("sidecar", "--address=localhost")).isEqualTo(2);
    assertOneLine("'--address': 'localhost'");

    err.getBuffer().setLength(0);
    assertThat(run("--registry=consul", "sidecar")).isEqualTo(2);
    assertOneLine("'--registry': 'consul' (expected: memory, etcd or etcdv3");

    err.getBuffer().setLength(0);
    assertThat(run(Map.of("MICRO_REGISTRY", "zookeeper"), "sidecar")).isEqualTo(2);
    assertOneLine("'zookeeper'");

    err.getBuffer().setLength(0);
    assertThat(run("sidecar", "--server_name=foo", "--server_address=127.0.0.1:99999")).isEqualTo(2);
    assertOneLine("'--server_address': '127.0.0.1:99999' has port 99999");
    assertThat(started).isNull();
  }

  @Test
  void unknownFlagsAreRefusedWithAHintWhereGlobalFlagsGo() {
    assertThat(run("sidecar", "--registry=memory")).isEqualTo(2);
    assertOneLine("Unknown option: '--registry=memory'");
    assertThat(err.toString()).contains("global flags such as --registry go before 'sidecar'");

    err.getBuffer().setLength(0);
    assertThat(run("--bogus", "sidecar")).isEqualTo(2);
    assertOneLine("Unknown option: '--bogus'");
  }

  @Test
  void helpListsEveryFlagWithItsEnvironmentVariable() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("--registry", "--registry_address", "MICRO_REGISTRY", "sidecar");
    out.getBuffer().setLength(0);
    assertThat(run("sidecar", "--help")).isZero();
    assertThat(out.toString()).contains("--address", "--server_name", "--server_address",
        "MICRO_SIDECAR_ADDRESS", "MICRO_SIDECAR_SERVER_NAME", "MICRO_SIDECAR_SERVER_ADDRESS", "Default: :8081");
    assertThat(started).isNull();
  }

  @Test
  void brokerFlagsSetTheBufferAndOverflowPolicyFromFlagOrEnvironment() {
    assertThat(run("sidecar")).isZero();
    assertThat(started.broker()).isEqualTo(BrokerConfig.DEFAULT);

    assertThat(run("sidecar", "--broker_buffer=64", "--broker_overflow", "CLOSE")).isZero();
    assertThat(started.broker()).isEqualTo(new BrokerConfig(64, BrokerConfig.Overflow.CLOSE));

    assertThat(run(Map.of("MICRO_SIDECAR_BROKER_BUFFER", "8", "MICRO_SIDECAR_BROKER_OVERFLOW", "close"), "sidecar")).isZero();
    assertThat(started.broker()).isEqualTo(new BrokerConfig(8, BrokerConfig.Overflow.CLOSE));

    started = null;
    assertThat(run("sidecar", "--broker_buffer=0")).isEqualTo(2);
    assertOneLine("'--broker_buffer': buffer size: 0 (expected: 1 to 1048576 messages)");
    err.getBuffer().setLength(0);
    assertThat(run("sidecar", "--broker_overflow=block")).isEqualTo(2);
    assertOneLine("'--broker_overflow': 'block' (expected: drop_oldest or close)");
    assertThat(started).isNull();
  }

  @Test
  void pendingBytesFlagsBoundWebSocketSubscribersFromFlagOrEnvironment() {
    assertThat(run("sidecar", "--broker_pending_bytes=1048576", "--broker_max_pending_bytes", "4194304")).isZero();
    assertThat(started.broker().pendingBytes()).isEqualTo(1L << 20);
    assertThat(started.broker().maxPendingBytes()).isEqualTo(4L << 20);

    assertThat(run(Map.of("MICRO_SIDECAR_BROKER_PENDING_BYTES", "65536"), "sidecar")).isZero();
    assertThat(started.broker().pendingBytes()).isEqualTo(65536);
    assertThat(started.broker().maxPendingBytes()).isEqualTo(BrokerConfig.DEFAULT_MAX_PENDING_BYTES);

    started = null;
    assertThat(run("sidecar", "--broker_pending_bytes=0")).isEqualTo(2);
    assertOneLine("'--broker_pending_bytes': pending bytes: 0 (expected: at least 1)");
    err.getBuffer().setLength(0);
    assertThat(run("sidecar", "--broker_pending_bytes=2048", "--broker_max_pending_bytes=1024")).isEqualTo(2);
    assertOneLine("'--broker_max_pending_bytes': max pending bytes: 1024 (expected: at least the 2048 pending bytes of one subscriber)");
    assertThat(started).isNull();
  }

  @Test
  void observabilityFlagsAreBooleansInEveryFormWithTheirEnvironmentVariables() {
    assertThat(run("sidecar")).isZero();
    assertThat(started.observability()).isEqualTo(ObservabilityConfig.DEFAULT);
    assertThat(started.observability()).isEqualTo(new ObservabilityConfig(false, true, true, false));

    assertThat(run("--enable_stats", "sidecar", "--trace_create", "--access_log=false", "--enable_metrics", "false")).isZero();
    assertThat(started.observability()).isEqualTo(new ObservabilityConfig(true, false, false, true));

    assertThat(run("--enable_stats=true", "sidecar", "--address=:0")).isZero();
    assertThat(started.observability().stats()).isTrue();

    assertThat(run(Map.of("MICRO_ENABLE_STATS", "true", "MICRO_SIDECAR_ACCESS_LOG", "false",
        "MICRO_SIDECAR_TRACE_CREATE", "true", "MICRO_SIDECAR_ENABLE_METRICS", "false"), "sidecar")).isZero();
    assertThat(started.observability()).isEqualTo(new ObservabilityConfig(true, false, false, true));

    assertThat(run(Map.of("MICRO_ENABLE_STATS", "true"), "--enable_stats=false", "sidecar")).isZero();
    assertThat(started.observability().stats()).as("the flag wins").isFalse();
  }

  @Test
    void theGlobalBrokerFlagSharesMessagesOverHttpAdvertisedAtTheGivenOrListenHost() {
    assertThat(run("sidecar")).isZero();
    assertThat(started.broker().kind()).isEqualTo(BrokerConfig.Kind.MEMORY);

    assertThat(run("--broker=http", "sidecar", "--broker_buffer=64")).isZero();
    assertThat(started.broker()).isEqualTo(new BrokerConfig(64, BrokerConfig.Overflow.DROP_OLDEST).withHttp(""));
    assertThat(started.broker().advertiseHost(started.listen())).as("listening on every interface").isEqualTo("127.0.0.1");

    assertThat(run("--broker", "HTTP", "sidecar", "--address=10.1.2.3:8081")).isZero();
    assertThat(started.broker().advertiseHost(started.listen())).isEqualTo("10.1.2.3");

    assertThat(run(Map.of("MICRO_BROKER", "http", "MICRO_SIDECAR_ADVERTISE_ADDRESS", "sidecar-a.local"), "sidecar")).isZero();
    assertThat(started.broker().kind()).isEqualTo(BrokerConfig.Kind.HTTP);
    assertThat(started.broker().advertiseHost(started.listen())).isEqualTo("sidecar-a.local");

    started = null;
    assertThat(run("--broker=nats", "sidecar")).isEqualTo(2);
    assertOneLine("'--broker': 'nats' (expected: memory or http)");
    err.getBuffer().setLength(0);
    assertThat(run("--broker=http", "sidecar", "--advertise_address=a/b")).isEqualTo(2);
    assertOneLine("'--advertise_address': 'a/b' (expected: a host name or IP address)");
    assertThat(started).isNull();
  }

  @Test
  void environmentNamesFollowTheContract() {
    assertThat(Flag.variable("micro", "--registry_address")).isEqualTo("MICRO_REGISTRY_ADDRESS");
    assertThat(Flag.variable("micro", "--enable_tls")).isEqualTo("MICRO_ENABLE_TLS");
    assertThat(Flag.variable("sidecar", "--server_name")).isEqualTo("MICRO_SIDECAR_SERVER_NAME");
    assertThat(Flag.variable("sidecar", "--healthcheck_url")).isEqualTo("MICRO_SIDECAR_HEALTHCHECK_URL");
  }

  @Test
  void helpSaysCliCommandsGoThroughASidecarAt8081ByDefault() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("--proxy_address", "MICRO_PROXY_ADDRESS", "Default: 127.0.0.1:8081",
        "never to etcd directly", "list", "get", "register", "deregister", "query", "health", "publish");
    out.getBuffer().setLength(0);
    assertThat(run("get", "service", "--help")).isZero();
    assertThat(out.toString()).contains("service  <name>", "Id\tAddress\tPort\tMetadata", "Endpoint: <name>");
    out.getBuffer().setLength(0);
    assertThat(run("health", "--help")).isZero();
    assertThat(out.toString()).contains("node\t\taddress:port\t\tstatus", "Debug.Health");
  }

  @Test
  void proxyAddressesMayCarryASchemeOrOnlyAPort() {
    ProxyOption proxy = new ProxyOption(MicroCommand.create(c -> 0).getCommandSpec());
    assertThat(proxy.uri("127.0.0.1:8081")).hasToString("http://127.0.0.1:8081");
    assertThat(proxy.uri("http://10.0.0.1:9000/")).hasToString("http://10.0.0.1:9000");
    assertThat(proxy.uri("HTTPS://sidecar.example:443")).hasToString("HTTPS://sidecar.example:443");
    assertThat(proxy.uri(":8081")).hasToString("http://127.0.0.1:8081");
    assertThat(proxy.uri("[::1]:8081").getHost()).isEqualTo("[::1]");
    Assertions.assertThatThrownBy(() -> proxy.uri("http://h:1/registry"))
        .hasMessageContaining("'--proxy_address': 'http://h:1/registry' (expected: host:port");
  }

  @Test
  void aBadProxyAddressFromTheEnvironmentIsAFlagError() {
    assertThat(run(Map.of("MICRO_PROXY_ADDRESS", "a b"), "list", "services")).isEqualTo(2);
    assertOneLine("'--proxy_address': 'a b'");
  }

  @Test
  void badJsonArgumentsExitTwoBeforeAnyRequest() {
    // Port 1 is never a sidecar: reaching it would print "cannot reach", not the JSON error.
    assertThat(run("--proxy_address=127.0.0.1:1", "register", "service", "{\"name\":")).isEqualTo(2);
    assertOneLine("micro: not a service: body: invalid JSON");
    assertThat(err.toString()).contains("(see 'micro register service --help')");
    err.getBuffer().setLength(0);
    assertThat(run("--proxy_address=127.0.0.1:1", "deregister", "service", "[1]")).isEqualTo(2);
    assertOneLine("micro: not a service: body: not a JSON object");
    err.getBuffer().setLength(0);
    assertThat(run("--proxy_address=127.0.0.1:1", "query", "foo", "Foo.Call", "{\"name\":", "\"John\"")).isEqualTo(2);
    assertOneLine("micro: request: invalid JSON:");
    assertThat(out.toString()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // values the flag's parser takes and its configuration record refuses, naming the setting itself
      "--client_pool_size=0|sidecar|'--client_pool_size': pool size 0 (expected: 1 or more)",
      "--client_eject_after=0|sidecar|'--client_eject_after': eject after 0 (expected: 1 or more)",
      "sidecar|--shutdown_delay=20s|'--shutdown_delay': shutdown delay 20s (expected: shorter than the shutdown grace 15s)",
      "sidecar|--max_url_length=10|'--max_url_length': 10 bytes (expected: at least 256 bytes)",
      "sidecar|--max_header_size=100|'--max_header_size': 100 bytes (expected: at least 1024 bytes)",
      "sidecar|--max_buffered_bytes=1000|'--max_buffered_bytes': 1000 bytes (expected: at least 65536 bytes)",
      "sidecar|--max_connections=0|'--max_connections': 0 (expected: at least 1)",
      "sidecar|--healthcheck_success_threshold=0|'--healthcheck_success_threshold': threshold 0 (expected: 1 or more)",
      "sidecar|--healthcheck_failure_threshold=0|'--healthcheck_failure_threshold': threshold 0 (expected: 1 or more)",
  })
  void aBadSettingIsNamedByItsOwnFlag(String first, String second, String expected) {
    assertThat(run(first, second)).isEqualTo(2);
    assertOneLine("micro: Invalid value for option " + expected);
    assertThat(started).isNull();
  }

  @Test
  void globalFlagsAfterACliCommandAreRefusedWithAHint() {
    assertThat(run("list", "services", "--proxy_address=127.0.0.1:1")).isEqualTo(2);
    assertOneLine("global flags such as --proxy_address go before 'list'");
  }

  @Test
  void aSidecarThatCannotStartSaysWhyInOneLine() {
    // e.g. its port in use: the line was read without picocli, the failure is still one line and exit 1
    int code = MicroCli.run(new String[] {"sidecar", "--address=127.0.0.1:8081"}, Map.of(), new PrintWriter(out, true),
        new PrintWriter(err, true), config -> {
          throw new IllegalStateException("Failed to bind on [/127.0.0.1:8081]");
        });
    assertThat(code).isEqualTo(1);
    assertOneLine("micro: Failed to bind on [/127.0.0.1:8081]");
  }

  @Test
  void anErrorAboutAGlobalFlagPointsAtTheGlobalHelp() {
    assertThat(run("--enable_tls=true", "sidecar")).isEqualTo(2);
    assertOneLine("--enable_tls needs --tls_cert_file and --tls_key_file");
    assertThat(err.toString()).contains("(see 'micro --help')");
    err.getBuffer().setLength(0);
    assertThat(run("--api_token=short", "sidecar")).isEqualTo(2);
    assertThat(err.toString()).contains("'--api_token': too short", "(see 'micro --help')");
    err.getBuffer().setLength(0);
    // refused by the configuration records, named by their setting
    assertThat(run("--client_pool_size=0", "sidecar")).isEqualTo(2);
    assertThat(err.toString()).contains("'--client_pool_size': pool size 0", "(see 'micro --help')");
    err.getBuffer().setLength(0);
    assertThat(run("sidecar", "--shutdown_delay=20s")).isEqualTo(2);
    assertThat(err.toString()).contains("(see 'micro sidecar --help')");
    err.getBuffer().setLength(0);
    assertThat(run("sidecar", "--handler=grpc")).isEqualTo(2);
    assertThat(err.toString()).contains("(see 'micro sidecar --help')");
  }

  @Test
  void helpListsTheFlagsBeforeItsOwnOptions() {
    assertThat(run("sidecar", "--help")).isZero();
    // the option list, not the synopsis: each flag on a line of its own
    assertThat(out.toString().indexOf("\n      --address=")).isPositive().isLessThan(out.toString().indexOf("\n  -h, --help"));
    out.getBuffer().setLength(0);
    assertThat(run("--help")).isZero();
    assertThat(out.toString().indexOf("\n      --registry=")).isPositive().isLessThan(out.toString().indexOf("\n  -h, --help"));
  }

  private void assertOneLine(String expected) {
    String text = err.toString();
    assertThat(text).startsWith("micro: ").contains(expected);
    assertThat(text.strip()).doesNotContain("\n");
  }

}
