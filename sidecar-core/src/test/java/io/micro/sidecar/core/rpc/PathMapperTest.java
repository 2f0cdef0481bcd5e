package io.micro.sidecar.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathMapperTest {

  private static final String NS = "go.micro.srv";

  private static String error(String path) {
    RpcException e = catchThrowableOfType(RpcException.class, () -> PathMapper.map(NS, path));
    assertThat(e).as("expected an RpcException for %s", path).isNotNull();
    assertThat(e.error()).isEqualTo(MicroError.badRequest(e.getMessage()));
    return e.getMessage();
  }

  @ParameterizedTest(name = "{0} -> {1} {2}")
  @CsvSource({
      // the contract's table, exactly
      "/foo/bar,          go.micro.srv.foo,     Foo.Bar",
      "/foo/bar/baz,      go.micro.srv.foo,     Bar.Baz",
      "/foo/bar/baz/cat,  go.micro.srv.foo.bar, Baz.Cat",
      "/v1/foo/bar,       go.micro.srv.v1.foo,  Foo.Bar",
      "/v1/foo/bar/baz,   go.micro.srv.v1.foo,  Bar.Baz",
  })
  void theContractTableHolds(String path, String service, String method) {
    assertThat(PathMapper.map(NS, path)).isEqualTo(new PathMapper.Route(service, method));
  }

  @ParameterizedTest(name = "{0} -> {1} {2}")
  @CsvSource({
      "/example/call,            go.micro.srv.example,        Example.Call",
      "/foo,                     go.micro.srv.foo,            Foo.Call",
      "/say-hello,               go.micro.srv.say-hello,      SayHello.Call",
      "/greeter/say-hello,       go.micro.srv.greeter,        Greeter.SayHello",
      "/my-svc/say-hello-world,  go.micro.srv.my-svc,         MySvc.SayHelloWorld",
      "/a/b/c/d/e,               go.micro.srv.a.b.c,          D.E",
      "/v2/foo/bar/baz/cat,      go.micro.srv.v2.foo.bar,     Baz.Cat",
      "/v1/foo,                  go.micro.srv.v1,             V1.Foo",
      "/va/foo/bar,              go.micro.srv.va,             Foo.Bar",
      "/v/foo/bar,               go.micro.srv.v,              Foo.Bar",
      "/V1/foo/bar,              go.micro.srv.V1,             Foo.Bar",
      "/v10/foo/bar,             go.micro.srv.v10.foo,        Foo.Bar",
      "/foo/bar.baz,             go.micro.srv.foo,            Foo.Bar.Baz",
      "/foo/snake_case,          go.micro.srv.foo,            Foo.Snake_case",
      "/foo/9lives,              go.micro.srv.foo,            Foo.9lives",
      "/Foo/Bar,                 go.micro.srv.Foo,            Foo.Bar",
      "/foo/say--hello-,         go.micro.srv.foo,            Foo.SayHello",
  })
  void otherPathsFollowGoMicrosRouter(String path, String service, String method) {
    assertThat(PathMapper.map(NS, path)).isEqualTo(new PathMapper.Route(service, method));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/foo//bar",
      "//foo/bar",
      "/foo/bar/",
      "/foo/bar//",
      "/foo/./bar",
      "/./foo/bar/.",
      "/../foo/bar",
      "/../../foo/bar",
      "/x/../foo/bar",
      "/foo/baz/../bar",
      "foo/bar",
      "../foo/bar",
  })
  void pathsAreCleanedAsGoDoes(String path) {
    assertThat(PathMapper.map(NS, path)).isEqualTo(new PathMapper.Route("go.micro.srv.foo", "Foo.Bar"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"", "/", "//", "/.", "/..", "/./..", "/foo/..", ".", "../.."})
  void nothingLeftIsAnInvalidPath(String path) {
    assertThat(error(path)).isEqualTo("invalid path");
  }

  @Test
  void aNullPathIsAnInvalidPath() {
    assertThat(error(null)).isEqualTo("invalid path");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "/foo/bar baz      | invalid path: bar baz",
      "/foo/bar%2Fbaz    | invalid path: bar%2Fbaz",
      "/foo/bär          | invalid path: bär",
      "/foo?x=1/bar      | invalid path: foo?x=1",
      "/foo/bar\\baz     | invalid path: bar\\baz",
      "/foo:1/bar        | invalid path: foo:1",
      "/foo/-            | invalid path: -",
      "/foo/...          | invalid path: ...",
      "/_/bar            | invalid path: _",
  })
  void partsOutsideTheSafeCharactersAreRefused(String path, String detail) {
    assertThat(error(path)).isEqualTo(detail);
  }

  @Test
  void controlCharactersAreEscapedAndLongPartsCutInTheDetail() {
    assertThat(error("/foo/a\u0000b\nc")).isEqualTo("invalid path: a\\u0000b\\u000ac");
    String longPart = "x".repeat(100) + " ";
    assertThat(error("/foo/" + longPart)).isEqualTo("invalid path: " + "x".repeat(64) + "…");
  }

  @Test
  void theNamespaceIsConfigurableAndMayBeEmpty() {
    assertThat(PathMapper.map("com.example.api", "/foo/bar"))
        .isEqualTo(new PathMapper.Route("com.example.api.foo", "Foo.Bar"));
    assertThat(PathMapper.map("", "/foo/bar/baz")).isEqualTo(new PathMapper.Route("foo", "Bar.Baz"));
  }
}
