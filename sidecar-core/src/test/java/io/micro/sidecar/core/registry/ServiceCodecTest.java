package io.micro.sidecar.core.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ServiceCodecTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void writesLowercaseKeysWithEveryFieldAndNulls() {
    Service s = new Service("go.micro.srv.example", null, null, null,
        List.of(new Node("go.micro.srv.example-c5718d29-da2a-11e4-be11-68a86d0d36b6", "[::]", 60728, null)));
    assertThat(new String(ServiceCodec.encode(List.of(s)), StandardCharsets.UTF_8)).isEqualTo(
        "[{\"name\":\"go.micro.srv.example\",\"version\":\"\",\"metadata\":null,\"endpoints\":null,"
            + "\"nodes\":[{\"id\":\"go.micro.srv.example-c5718d29-da2a-11e4-be11-68a86d0d36b6\","
            + "\"address\":\"[::]\",\"port\":60728,\"metadata\":null}]}]");
  }

  @Test
  void readsCapitalisedKeysAsTheContractExampleSendsThem() {
    Service s = ServiceCodec.decodeRegistration(utf8("""
        {"Name": "foo.bar", "Version": "1.0", "Metadata": {"a": "b"},
         "Nodes": [{"Port": 9091, "Address": "127.0.0.1", "Id": "foo.bar-017da09a", "Metadata": {"x": "y"}}],
         "Endpoints": [{"Name": "Foo.Bar", "Request": {"Name": "req", "Type": "Req", "Values": []}}]}"""));
    assertThat(s).isEqualTo(new Service("foo.bar", "1.0", Map.of("a", "b"),
        List.of(new Endpoint("Foo.Bar", new Value("req", "Req", List.of()), null, null)),
        List.of(new Node("foo.bar-017da09a", "127.0.0.1", 9091, Map.of("x", "y")))));
  }

  @Test
  void readsMixedCaseAndIgnoresUnknownKeys() {
    Service s = ServiceCodec.decodeRegistration(utf8(
        "{\"nAmE\":\"foo\",\"colour\":\"red\",\"NODES\":[{\"ID\":\"foo-1\",\"address\":\"h\",\"PORT\":1,\"extra\":[1]}]}"));
    assertThat(s.name()).isEqualTo("foo");
    assertThat(s.nodes()).containsExactly(new Node("foo-1", "h", 1, null));
  }

  @Test
  void roundTripsAWatchFrameWithCapitalisedEnvelope() {
    Service s = new Service("foo", "", null, null, List.of(new Node("foo-1", "h", 1, null)));
    assertThat(new String(ServiceCodec.encode(new RegistryEvent(RegistryEvent.Action.DELETE, s)), StandardCharsets.UTF_8))
        .startsWith("{\"Action\":\"delete\",\"Service\":{\"name\":\"foo\",");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "''                                          | body: empty",
      "'   '                                       | body: empty",
      "[1,2]                                       | body: not a JSON object",
      "'\"foo\"'                                   | body: not a JSON object",
      "name=foo&nodes=bar                          | body: not a JSON object",
      "'{\"name\":\"foo\",'                        | body: invalid JSON",
      "'{\"name\":\"foo\"} trailing'               | body: invalid JSON",
      "'{\"nodes\":[{\"id\":\"a\"}]}'              | name: missing",
      "'{\"name\":\"\",\"nodes\":[{\"id\":\"a\"}]}'  | name: missing",
      "'{\"name\":\"a//b\",\"nodes\":[{\"id\":\"a\"}]}' | name: \"a//b\"",
      "'{\"name\":\"../etc\",\"nodes\":[{\"id\":\"a\"}]}' | name: \"../etc\"",
      "'{\"name\":\"a/\",\"nodes\":[{\"id\":\"a\"}]}' | name: \"a/\"",
      "'{\"name\":\"a\",\"nodes\":[{\"id\":\"x/./y\"}]}' | nodes[0].id: \"x/./y\"",
      "'{\"name\":\"foo\"}'                        | nodes: missing",
      "'{\"name\":\"foo\",\"nodes\":[]}'           | nodes: missing",
      "'{\"name\":\"foo\",\"nodes\":[null]}'       | nodes[0]: null",
      "'{\"name\":\"foo\",\"nodes\":[{\"port\":1}]}' | nodes[0].id: missing",
      "'{\"name\":\"foo\",\"nodes\":[{\"id\":\"a\",\"port\":70000}]}' | nodes[0].port: 70000",
      "'{\"name\":\"foo\",\"nodes\":[{\"id\":\"a\",\"port\":\"x\"}]}' | nodes[0].port:",
      "'{\"name\":\"foo\",\"nodes\":{\"id\":\"a\"}}' | nodes:",
      "'{\"name\":{\"x\":1},\"nodes\":[{\"id\":\"a\"}]}' | name:",
      "'{\"name\":\"foo\",\"metadata\":{\"a\":{}},\"nodes\":[{\"id\":\"a\"}]}' | metadata.a:",
  })
  void rejectsWithAOneLineReasonNamingTheField(String body, String reason) {
    assertThatThrownBy(() -> ServiceCodec.decodeRegistration(utf8(body)))
        .isInstanceOf(InvalidServiceException.class)
        .hasMessageStartingWith(reason)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThan(300));
  }

  @Test
  void rejectsDeepNestingWithoutStackOverflow() {
    String deep = "{\"name\":\"foo\",\"nodes\":[{\"id\":\"a\"}],\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    assertThatThrownBy(() -> ServiceCodec.decodeRegistration(utf8(deep)))
        .isInstanceOf(InvalidServiceException.class)
        .hasMessageContaining("nesting");
  }
}
