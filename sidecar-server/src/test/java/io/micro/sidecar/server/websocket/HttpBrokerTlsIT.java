package io.micro.sidecar.server.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.broker.BrokerConfig;
import io.micro.sidecar.core.broker.HttpBroker;
import io.micro.sidecar.core.broker.Message;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SecurityConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.testing.EtcdCluster;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.TestCerts;
import io.micro.sidecar.server.testing.TestSidecars;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

/**
 * {@code --broker=http} between sidecars that serve TLS (contract §7.4): their topic nodes say
 * {@code "secure":"true"} and are reached over HTTPS, trusting {@code --client_tls_ca_file}, and under
 * mutual TLS presenting {@code --client_tls_cert_file}.
 */
class HttpBrokerTlsIT {

  private static final Duration WAIT = Duration.ofSeconds(10);
  static EtcdCluster etcd;
  static TestCerts certs;

  @BeforeAll
  static void start() {
    etcd = EtcdCluster.start(1);
    certs = TestCerts.create();
  }

  @AfterAll
  static void stop() throws Exception {
    etcd.close();
    try (var files = Files.walk(certs.dir())) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }

  private static SidecarConfig config(boolean mutual) {
    SecurityConfig security = SecurityConfig.DEFAULT
        .withTls(new SecurityConfig.Tls(certs.serverCert(), certs.serverKey(),
            mutual ? Optional.of(certs.ca()) : Optional.empty()))
        .withAppTrust(certs.ca());
    if (mutual) {
      security = security.withClientCert(new SecurityConfig.ClientCert(certs.clientCert(), certs.clientKey()));
    }
    return TestSidecars.local()
        .withRegistry(new RegistryConfig(RegistryConfig.Kind.ETCD, etcd.endpoints()))
        .withBroker(BrokerConfig.DEFAULT.withHttp(""))
        .withSecurity(security);
  }

  @ParameterizedTest(name = "mutual TLS: {0}")
  @ValueSource(booleans = {false, true})
  void aMessageCrossesToASidecarServingTls(boolean mutual) throws Exception {
    String topic = mutual ? "secure/mutual" : "secure/one-way";
    try (Sidecar a = Sidecar.start(config(mutual)); Sidecar b = Sidecar.start(config(mutual))) {
      BlockingQueue<Message> got = new LinkedBlockingQueue<>();
      Disposable subscription = a.broker().subscribe(topic, null).subscribe(got::add);
      try {
        await().atMost(WAIT).until(() -> nodes(b, topic).size() == 1);
        assertThat(nodes(b, topic).get(0).metadata()).containsEntry("secure", "true");

        b.broker().publish(topic, new Message(Map.of("Content-Type", "text/plain"),
            "over TLS".getBytes(StandardCharsets.UTF_8))).block(WAIT);
        Message m = got.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(m).as("delivered from b to a over HTTPS").isNotNull();
        assertThat(new String(m.body(), StandardCharsets.UTF_8)).isEqualTo("over TLS");
        HttpBroker peers = (HttpBroker) b.broker();
        await().atMost(WAIT).until(() -> peers.peerStats().delivered() == 1);
        assertThat(peers.peerStats().failed()).isZero();
      } finally {
        subscription.dispose();
      }
    }
  }

  private static List<Node> nodes(Sidecar s, String topic) {
    return s.registry().lookup("topic:" + topic).block(WAIT).stream().flatMap(svc -> svc.nodes().stream()).toList();
  }
}
