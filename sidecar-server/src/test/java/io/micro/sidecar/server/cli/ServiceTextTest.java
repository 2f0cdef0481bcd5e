package io.micro.sidecar.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.registry.Endpoint;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.Value;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceTextTest {

  private static Service service(String name, String version, Node... nodes) {
    return new Service(name, version, null, null, nodes.length == 0 ? null : List.of(nodes));
  }

  @Test
  void listedNamesAreSortedAndEachVersionedServiceAppearsOnce() {
    String names = ServiceText.names(List.of(service("go.micro.srv.greeter", "2"), service("b", ""),
        service("go.micro.srv.greeter", "1"), service("a.z", ""), service("", "")));
    assertThat(names).isEqualTo("a.z\nb\ngo.micro.srv.greeter");
    assertThat(ServiceText.names(List.of())).isEmpty();
  }

  @Test
  void getServicePrintsTheOriginalMicrosLayoutWithSortedMetadataAndEndpointShapes() {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("zone", "a");
    meta.put("broker", "http");
    Value request = new Value("Request", "Request", List.of(new Value("Name", "string", null),
        new Value("UserID", "int64", null),
        new Value("Address", "Address", List.of(new Value("StreetName", "string", null)))));
    Endpoint call = new Endpoint("Say.Hello", request, new Value("Response", "Response", List.of()),
        Map.of("stream", "false"));
    Service v1 = new Service("greeter", "1.0.0", null, List.of(call),
        List.of(new Node("greeter-1", "10.0.0.1", 9090, meta), new Node("greeter-2", "10.0.0.2", 9091, null)));
    Service v2 = service("greeter", "2.0.0", new Node("greeter-3", "::1", 9092, Map.of()));

    assertThat(ServiceText.describe(List.of(v1, v2))).isEqualTo("""
        service  greeter

        version 1.0.0

        Id\tAddress\tPort\tMetadata
        greeter-1\t10.0.0.1\t9090\tbroker=http,zone=a
        greeter-2\t10.0.0.2\t9091\t

        version 2.0.0

        Id\tAddress\tPort\tMetadata
        greeter-3\t::1\t9092\t

        Endpoint: Say.Hello
        Metadata: stream=false

        Request: {
        \tname string
        \tuser_id int64
        \taddress Address {
        \t\tstreet_name string
        \t}
        }

        Response: {}
        """);
  }

  @Test
  void anUnversionedServiceWithoutNodesOrEndpointsStillHasItsHeader() {
    // As in the original, "version " is printed even when the version is empty.
    assertThat(ServiceText.describe(List.of(service("foo", "")))).isEqualTo("service  foo\n\nversion \n\nId\tAddress\tPort\tMetadata");
  }

  @Test
  void healthRowsSeparateColumnsByTwoTabsAndBracketIpv6Hosts() {
    assertThat(ServiceText.healthHeader(service("foo", "1"), true))
        .containsExactly("service  foo", "\nversion 1", "\nnode\t\taddress:port\t\tstatus");
    assertThat(ServiceText.healthHeader(service("foo", "2"), false))
        .containsExactly("\nversion 2", "\nnode\t\taddress:port\t\tstatus");
    assertThat(ServiceText.healthRow(new Node("foo-1", "127.0.0.1", 9090, null), "ok"))
        .isEqualTo("foo-1\t\t127.0.0.1:9090\t\tok");
    assertThat(ServiceText.address(new Node("foo-2", "::1", 9090, null))).isEqualTo("[::1]:9090");
  }

  @Test
  void fieldNamesBecomeSnakeCaseAsSnakerDid() {
    assertThat(ServiceText.snake("Name")).isEqualTo("name");
    assertThat(ServiceText.snake("UserID")).isEqualTo("user_id");
    assertThat(ServiceText.snake("HTTPServer")).isEqualTo("http_server");
    assertThat(ServiceText.snake("already_snake")).isEqualTo("already_snake");
    assertThat(ServiceText.snake("Field2Name")).isEqualTo("field2_name");
  }
}
