package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.config.AppConfig;
import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.RegistryConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.testing.EtcdCluster;
import io.micro.sidecar.server.Sidecar;
import io.micro.sidecar.server.testing.JsonRpcApp;
import io.micro.sidecar.server.testing.TestSidecars;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two sidecars started with {@code --registry=etcd} share one etcd through the /registry API. */
class EtcdSidecarIT {

  static EtcdCluster etcd;
  static Sidecar a;
  static Sidecar b;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    etcd = EtcdCluster.start(1);
    RegistryConfig registry = new RegistryConfig(RegistryConfig.Kind.ETCD, etcd.endpoints());
    SidecarConfig config = TestSidecars.local().withRegistry(registry);
    a = Sidecar.start(config);
    b = Sidecar.start(config);
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
    etcd.close();
  }

  static HttpResponse<String> send(Sidecar s, String method, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aSidecarStartedWhileEtcdIsDownServesAndRegistersItsAppWhenEtcdArrives() throws Exception {
    try (EtcdCluster later = EtcdCluster.start(1)) {
      later.stop(0);
      SidecarConfig config = TestSidecars.local()
          .withRegistry(new RegistryConfig(RegistryConfig.Kind.ETCD, later.endpoints()))
          .withApp(new AppConfig("early", new HostPort("127.0.0.1", 9090)));
      try (Sidecar s = Sidecar.start(config)) {
        HttpResponse<String> r = send(s, "GET", "/registry", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("[]");

        later.restart(0);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
            assertThat(send(s, "GET", "/registry?service=early", null).body()).contains("\"id\":\"early-"));
        assertThat(later.etcdctl("get", "--keys-only", "--prefix", "/micro-registry/early/")).contains("/micro-registry/early/early-");
      }
    }
  }

  @Test
  void theAppsOwnRegistrationDeletedByAnyoneElseComesBackButOneTakenOverHttpStaysDeleted() throws Exception {
    SidecarConfig config = TestSidecars.local()
        .withRegistry(new RegistryConfig(RegistryConfig.Kind.ETCD, etcd.endpoints()))
        .withApp(new AppConfig("own.app", new HostPort("127.0.0.1", 9090)));
    try (Sidecar s = Sidecar.start(config)) {
      String id = s.app().orElseThrow().nodes().get(0).id();
      String key = "/micro-registry/own.app/" + id;
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(etcd.etcdctl("get", "--keys-only", key)).contains(key));
      String http = "{\"Name\":\"other.app\",\"Nodes\":[{\"Port\":9092,\"Address\":\"127.0.0.1\",\"Id\":\"other-1\"}]}";
      assertThat(send(s, "POST", "/registry", http).statusCode()).isEqualTo(200);

      // etcdctl del, and a stray deregistration through another sidecar
      etcd.etcdctl("del", key);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        assertThat(etcd.etcdctl("get", "--keys-only", key)).contains(key);
        assertThat(send(b, "GET", "/registry?service=own.app", null).body()).contains(id);
      });
      String ownBody = "{\"Name\":\"own.app\",\"Nodes\":[{\"Id\":\"" + id + "\"}]}";
      assertThat(send(b, "DELETE", "/registry", ownBody).statusCode()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(send(a, "GET", "/registry?service=own.app", null).body()).contains(id));

      // a registration taken over HTTP is the caller's to keep: deleted stays deleted
      assertThat(send(b, "DELETE", "/registry", http).statusCode()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(send(s, "GET", "/registry?service=other.app", null).statusCode()).isEqualTo(404));
    }
  }

  @Test
  void aRegistrationWithoutTtlOutlivesTheSidecarThatTookItAndOneWithTtlDoesNot() throws Exception {
    SidecarConfig config = TestSidecars.local()
        .withRegistry(new RegistryConfig(RegistryConfig.Kind.ETCD, etcd.endpoints()))
        .withApp(new AppConfig("short.lived", new HostPort("127.0.0.1", 9090)));
    String forever = "{\"Name\":\"registered.once\",\"Nodes\":[{\"Port\":9093,\"Address\":\"127.0.0.1\",\"Id\":\"once-1\"}]}";
    String heartbeat = "{\"Name\":\"heart.beat\",\"Nodes\":[{\"Port\":9094,\"Address\":\"127.0.0.1\",\"Id\":\"beat-1\"}]}";
    String appKey;
    try (Sidecar s = Sidecar.start(config)) {
      appKey = "/micro-registry/short.lived/" + s.app().orElseThrow().nodes().get(0).id();
      assertThat(send(s, "POST", "/registry", forever).statusCode()).isEqualTo(200);
      assertThat(send(s, "POST", "/registry?ttl=30s", heartbeat).statusCode()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(etcd.etcdctl("get", "--keys-only", appKey)).contains(appKey));
    }
    // the sidecar stopped (as on SIGTERM): apps that registered once at start are still discoverable
    assertThat(etcd.etcdctl("get", "--keys-only", "/micro-registry/registered.once/once-1"))
        .contains("/micro-registry/registered.once/once-1");
    assertThat(send(b, "GET", "/registry?service=registered.once", null).body()).contains("once-1");
    // what was on the sidecar's leases left with it: its app, and a heartbeat registration it no longer renews
    assertThat(etcd.etcdctl("get", "--keys-only", appKey)).doesNotContain(appKey);
    assertThat(etcd.etcdctl("get", "--keys-only", "/micro-registry/heart.beat/beat-1")).doesNotContain("beat-1");
    assertThat(send(b, "DELETE", "/registry", forever).statusCode()).isEqualTo(200);
    assertThat(etcd.etcdctl("get", "--keys-only", "/micro-registry/registered.once/once-1")).doesNotContain("once-1");
  }

  @Test
  void nodesOfBothLayoutsAreCalledAndTheGoMicroPrefixWritesItsNodeForm() throws Exception {
    try (JsonRpcApp modern = JsonRpcApp.start("modern-1");
         JsonRpcApp old = JsonRpcApp.start("old-1")) {
      // go-micro 1.11 and later: /micro/registry/, the port inside the address
      etcd.etcdctl("put", "/micro/registry/go.micro.srv.modern/modern-1", "{\"name\":\"go.micro.srv.modern\","
          + "\"version\":\"latest\",\"nodes\":[{\"id\":\"modern-1\",\"address\":\"127.0.0.1:" + modern.port() + "\"}]}");
      // the sidecar era: /micro-registry/, address and port apart
      etcd.etcdctl("put", "/micro-registry/go.micro.srv.old/old-1", "{\"name\":\"go.micro.srv.old\",\"version\":\"\","
          + "\"nodes\":[{\"id\":\"old-1\",\"address\":\"127.0.0.1\",\"port\":" + old.port() + "}]}");
      for (String svc : List.of("modern", "old")) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
          HttpResponse<String> r = send(a, "POST", "/rpc", "{\"service\":\"go.micro.srv." + svc
              + "\",\"method\":\"Example.Call\",\"request\":{\"name\":\"both\"}}");
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
          assertThat(r.body()).contains(svc + "-1: Hello both");
        });
      }
    }
    SidecarConfig config = TestSidecars.local()
        .withRegistry(new RegistryConfig(RegistryConfig.Kind.ETCD, etcd.endpoints(), "/micro/registry/"));
    try (Sidecar s = Sidecar.start(config)) {
      String body = "{\"Name\":\"written.modern\",\"Nodes\":[{\"Port\":9095,\"Address\":\"127.0.0.1\",\"Id\":\"wm-1\"}]}";
      assertThat(send(s, "POST", "/registry", body).statusCode()).isEqualTo(200);
      assertThat(etcd.etcdctl("get", "--print-value-only", "/micro/registry/written.modern/wm-1"))
          .contains("\"address\":\"127.0.0.1:9095\"");
      // read back in the form it was given
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(send(b, "GET", "/registry?service=written.modern", null).body()).contains("\"id\":\"wm-1\""));
      assertThat(send(s, "DELETE", "/registry", body).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aServiceRegisteredThroughOneSidecarIsFoundThroughTheOtherAndInEtcd() throws Exception {
    String body = "{\"Name\":\"foo.bar\",\"Nodes\":[{\"Port\":9091,\"Address\":\"127.0.0.1\",\"Id\":\"foo.bar-1\"}]}";
    assertThat(send(a, "POST", "/registry", body).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      HttpResponse<String> r = send(b, "GET", "/registry?service=foo.bar", null);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("[{\"name\":\"foo.bar\",\"version\":\"\",\"metadata\":null,\"endpoints\":null,"
          + "\"nodes\":[{\"id\":\"foo.bar-1\",\"address\":\"127.0.0.1\",\"port\":9091,\"metadata\":null}]}]");
      assertThat(r.headers().firstValue(RegistryHandler.CACHE_AGE)).hasValueSatisfying(
          age -> assertThat(Long.parseLong(age)).isBetween(0L, 10L));
    });
    assertThat(etcd.etcdctl("get", "--keys-only", "--prefix", "/micro-registry/foo.bar/").strip())
        .isEqualTo("/micro-registry/foo.bar/foo.bar-1");

    assertThat(send(b, "DELETE", "/registry", body).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(send(a, "GET", "/registry?service=foo.bar", null).statusCode()).isEqualTo(404));
  }
}
