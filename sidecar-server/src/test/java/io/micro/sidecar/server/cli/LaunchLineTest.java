package io.micro.sidecar.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.config.SidecarConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A sidecar's launch line is read without picocli when it can be; then it must start the sidecar picocli
 * would start, from the same line and environment, and leave every other line to picocli.
 */
class LaunchLineTest {

  /** Environment variables for flags some of the lines give too: the line must win where it does. */
  private static final Map<String, String> ENV = Map.of("MICRO_CLIENT_RETRIES", "3",
      "MICRO_SIDECAR_NAMESPACE", "com.example", "MICRO_ENABLE_STATS", "TRUE", "MICRO_SIDECAR_ACCESS_LOG", "false",
      "MICRO_SIDECAR_ADDRESS", "127.0.0.1:7000", "MICRO_REGISTER_INTERVAL", "20", "MICRO_SIDECAR_IDLE_TIMEOUT", "");

  @ParameterizedTest
  @ValueSource(strings = {
      "sidecar",
      "sidecar --address=127.0.0.1:9000 --handler=proxy",
      "--registry=etcd --registry_address=10.0.0.1:2379,10.0.0.2:2379 --client_request_timeout=1m30s sidecar"
          + " --address 127.0.0.1:9000 --server_name=foo --server_address [::1]:9090",
      "--register_ttl=30 --register_interval=15 --sidecar_address=127.0.0.1:8082 --sidecar_handler=proxy"
          + " --sidecar_namespace=go.micro.api --sidecar_cors=http://a.example --client_pool_size=4 --client_pool_ttl=1m"
          + " --broker=http --broker_address=10.0.0.5:8001 sidecar",
      "--sidecar_address=:8082 --register_ttl=30 sidecar --address=:8083 --register_ttl=20s",
      "--enable_stats=false sidecar --trace_create --access_log=true --enable_metrics false --cors_credentials TRUE",
      "sidecar --broker_buffer=64 --broker_overflow CLOSE --broker_pending_bytes=1048576 --broker_max_pending_bytes 4194304",
      "sidecar --io_backend=epoll",
      "sidecar --server_name=foo --server_address=127.0.0.1:9090 --healthcheck_url=http://127.0.0.1:9090/health"
          + " --healthcheck_interval=2s --healthcheck_timeout 300ms --shutdown_delay=1s --shutdown_grace=5s",
      "--server_name=x --transport=http --api_address=:8080 sidecar --max_body_size=1024 --idle_timeout=1m --max_connections=5"
          + " --max_header_size=2048 --max_url_length=512 --header_timeout=5s --body_timeout=1m --max_buffered_bytes=1048576",
      "--client_retries=0 --client_eject_after=2 --client_eject_for=10s --client_idle_timeout=1s --api_token=0123456789abcdef"
          + " --api_token_open_reads=true sidecar --cors=http://a.example,http://b.example --advertise_address=10.1.1.1",
      "--registry etcd --enable_stats --client_retries 2 sidecar --address 127.0.0.1:1 --access_log",
      "--enable_stats true --api_token_open_reads FALSE sidecar --enable_metrics=False",
  })
  void aLineReadWithoutPicocliStartsTheSidecarPicocliWould(String line) {
    for (Map<String, String> env : List.of(Map.<String, String>of(), ENV)) {
      String[] args = OriginalFlags.scan(line.split(" "), MicroCli.COMMANDS).args();
      Optional<SidecarConfig> quick = LaunchLine.read(args, env);
      assertThat(quick).as("read without picocli: %s with %s", line, env).isPresent();
      assertThat(quick.get()).as(line + " with " + env).isEqualTo(picocli(args, env));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "sidecar --help",
      "sidecar -h",
      "--version sidecar",
      "sidecar --address=:1 --address=:2",
      "sidecar --registry=etcd",
      "sidecar --max_body_size=abc",
      "sidecar --enable_metrics=yes",
      "sidecar --address",
      "sidecar --cors -x",
      "sidecar --address=:1 extra",
      "sidecar -- --address=:1",
      "sidecar @flags.txt",
      "sidecar --handler=grpc",
      "sidecar --server_name=foo",
      "--enable_tls=true sidecar",
      "sidecar --server_name @@svc --server_address 127.0.0.1:9090",
      "sidecar --namespace=--",
      "--api_token=-hQ3456789abcdefgh sidecar",
      "--registry_address sidecar sidecar",
      "--registry etcd",
  })
  void everyOtherLineIsLeftToPicocli(String line) {
    String[] args = OriginalFlags.scan(line.split(" "), MicroCli.COMMANDS).args();
    assertThat(LaunchLine.read(args, Map.of())).as(line).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"MICRO_SIDECAR_MAX_BODY_SIZE=many", "MICRO_REGISTRY=zookeeper", "MICRO_SIDECAR_ENABLE_METRICS=1"})
  void aBadValueFromTheEnvironmentIsLeftToPicocliToo(String variable) {
    String[] v = variable.split("=", 2);
    assertThat(LaunchLine.read(new String[] {"sidecar"}, Map.of(v[0], v[1]))).isEmpty();
    assertThat(MicroCli.run(new String[] {"sidecar"}, Map.of(v[0], v[1]), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()), c -> 0)).as("picocli refuses it").isEqualTo(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sidecar --trace_create", "--enable_stats sidecar --trace_create"})
  void aBooleanFlagAloneHasItsEnvironmentValueReadFirstAsPicocliDoes(String line) {
    // picocli reads the variable of a boolean flag given alone (to flip it) and refuses a bad one
    Map<String, String> env = Map.of("MICRO_SIDECAR_TRACE_CREATE", "yes");
    assertThat(LaunchLine.read(line.split(" "), env)).isEmpty();
    StringWriter err = new StringWriter();
    assertThat(MicroCli.run(line.split(" "), env, new PrintWriter(new StringWriter()), new PrintWriter(err), c -> 0))
        .isEqualTo(2);
    assertThat(err.toString()).contains("'--trace_create'", "'yes' is not a boolean");
  }

  /** The configuration picocli's model reads from {@code args}: the one its {@code sidecar} command would run. */
  private static SidecarConfig picocli(String[] args, Map<String, String> env) {
    AtomicReference<SidecarConfig> started = new AtomicReference<>();
    StringWriter err = new StringWriter();
    int code = MicroCli.picocli(args, env, new PrintWriter(new StringWriter()), new PrintWriter(err), config -> {
      started.set(config);
      return 0;
    }, true);
    assertThat(code).as(err.toString()).isZero();
    return started.get();
  }
}
