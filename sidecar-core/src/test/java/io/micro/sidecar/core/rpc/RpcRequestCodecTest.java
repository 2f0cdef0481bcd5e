package io.micro.sidecar.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RpcRequestCodecTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static RpcRequest json(String body) {
    return RpcRequestCodec.fromJson(utf8(body));
  }

  private static String request(RpcRequest r) {
    return new String(r.request(), StandardCharsets.UTF_8);
  }

  /** The detail of the 400 that reading {@code body} as JSON ends in. */
  private static String jsonError(String body) {
    return error(catchThrowableOfType(RpcException.class, () -> json(body)));
  }

  private static String formError(String body) {
    return error(catchThrowableOfType(RpcException.class, () -> RpcRequestCodec.fromForm(body)));
  }

  private static String error(RpcException e) {
    assertThat(e).as("expected an RpcException").isNotNull();
    assertThat(e.error().id()).isEqualTo("go.micro.rpc");
    assertThat(e.error().code()).isEqualTo(400);
    assertThat(e.error().status()).isEqualTo("Bad Request");
    assertThat(e.error().detail()).doesNotContain("\n").isEqualTo(e.getMessage());
    return e.error().detail();
  }

  // ---- JSON ----

  @Test
  void readsTheContractJsonExample() {
    RpcRequest r = json("{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"John\"}}");
    assertThat(r).isEqualTo(new RpcRequest("go.micro.srv.example", "Example.Call", null, utf8("{\"name\":\"John\"}")));
  }

  @ParameterizedTest(name = "{0} {1} {2} {3}")
  @CsvSource({
      "service, method, request, address",
      "Service, Method, Request, Address",
      "SERVICE, METHOD, REQUEST, ADDRESS",
      "sErViCe, mEtHoD, rEqUeSt, aDdReSs",
  })
  void keysMatchWhateverTheirCase(String service, String method, String request, String address) {
    RpcRequest r = json("{\"" + service + "\":\"foo\",\"" + method + "\":\"Foo.Bar\",\"" + request
        + "\":{\"a\": 1},\"" + address + "\":\"10.0.0.1:9090\"}");
    assertThat(r).isEqualTo(new RpcRequest("foo", "Foo.Bar", "10.0.0.1:9090", utf8("{\"a\": 1}")));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "{\"name\": \"John\"}",
      "{ \"a\" :\n [ 1 , {\"b\" : null} ] ,\"é\":\"\\u00e9\\ud83d\\ude00\" }",
      "[1, 2, 3]",
      "[]",
      "{}",
      "42",
      "-1.25e-3",
      "true",
      "false",
      "null",
  })
  void takesAnyRequestValueByteForByte(String value) {
    assertThat(request(json("{\"service\":\"s\",\"method\":\"m\",\"request\":" + value + "}"))).isEqualTo(value);
    assertThat(request(json("{\"request\" :\t" + value + " ,\"service\":\"s\",\"method\":\"m\"}"))).isEqualTo(value);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "'{\\\"name\\\": \\\"John\\\"}'       | '{\"name\": \"John\"}'",
      "'[1,2]'                              | '[1,2]'",
      "'42'                                 | '42'",
      "'  42  '                             | '42'",
      "' {\\\"a\\\":1}\\n'                  | '{\"a\":1}'",
      "'\\\"hello\\\"'                      | '\"hello\"'",
      "'null'                               | 'null'",
  })
  void aRequestStringHoldsTheJsonOfTheRequest(String quoted, String expected) {
    assertThat(request(json("{\"service\":\"s\",\"method\":\"m\",\"request\":\"" + quoted + "\"}"))).isEqualTo(expected);
  }

  @Test
  void aRequestStringKeepsUnicodeAsUtf8() {
    assertThat(request(json("{\"service\":\"s\",\"method\":\"m\",\"request\":\"{\\\"n\\\":\\\"\\u00e9\\\"}\"}")))
        .isEqualTo("{\"n\":\"é\"}");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"", " ", "\\n\\t "})
  void aBlankRequestStringIsNullAsTheOriginalSentIt(String blank) {
    assertThat(request(json("{\"service\":\"s\",\"method\":\"m\",\"request\":\"" + blank + "\"}"))).isEqualTo("null");
  }

  @Test
  void anAbsentRequestIsNullAsTheOriginalSentItAndAnEmptyAddressIsNone() {
    assertThat(json("{\"service\":\"s\",\"method\":\"m\",\"address\":\"\"}"))
        .isEqualTo(new RpcRequest("s", "m", null, utf8("null")));
    assertThat(json("{\"service\":\"s\",\"method\":\"m\",\"address\":null}").address()).isNull();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"{bad", "not json", "42 43", "{\"a\":1} {}", "{\"a\":1,}", "[1,", "'single'"})
  void anUndecodableRequestStringIsInvalidRequest(String inner) {
    String escaped = inner.replace("\"", "\\\"");
    assertThat(jsonError("{\"service\":\"s\",\"method\":\"m\",\"request\":\"" + escaped + "\"}"))
        .startsWith("invalid request: ");
  }

  @Test
  void aRequestStringNestedDeeperThan64IsInvalidRequest() {
    String deep = "[".repeat(65) + "]".repeat(65);
    assertThat(jsonError("{\"service\":\"s\",\"method\":\"m\",\"request\":\"" + deep + "\"}"))
        .startsWith("invalid request: ").contains("nesting depth");
    String fine = "[".repeat(64) + "]".repeat(64);
    assertThat(request(json("{\"service\":\"s\",\"method\":\"m\",\"request\":\"" + fine + "\"}"))).isEqualTo(fine);
  }

  @Test
  void aRequestValueNestedDeeperThan64IsAnInvalidBody() {
    String deep = "[".repeat(64) + "]".repeat(64);
    assertThat(jsonError("{\"service\":\"s\",\"method\":\"m\",\"request\":" + deep + "}"))
        .startsWith("invalid request body: ").contains("nesting depth");
    String fine = "[".repeat(63) + "]".repeat(63);
    assertThat(request(json("{\"service\":\"s\",\"method\":\"m\",\"request\":" + fine + "}"))).isEqualTo(fine);
  }

  @Test
  void skipsUnknownKeysWhateverTheyHold() {
    assertThat(json("{\"x\":{\"service\":\"no\",\"deep\":[[{}]]},\"service\":\"s\",\"y\":[\"method\"],\"method\":\"m\",\"z\":null}"))
        .isEqualTo(new RpcRequest("s", "m", null, utf8("null")));
  }

  @Test
  void aRepeatedKeyCountsByItsLastOccurrence() {
    assertThat(json("{\"service\":\"a\",\"Service\":\"b\",\"method\":\"m\",\"request\":\"{bad\",\"request\":[1]}"))
        .isEqualTo(new RpcRequest("b", "m", null, utf8("[1]")));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "{\"method\":\"m\"}                              | invalid service",
      "{\"service\":\"\",\"method\":\"m\"}             | invalid service",
      "{\"service\":null,\"method\":\"m\"}             | invalid service",
      "{}                                              | invalid service",
      "{\"service\":\"s\"}                             | invalid method",
      "{\"service\":\"s\",\"method\":\"\"}             | invalid method",
      "{\"service\":\"s\",\"method\":null}             | invalid method",
      "{\"method\":\"m\",\"request\":\"{bad\"}         | invalid service",
      "{\"service\":\"s\",\"request\":\"{bad\"}        | invalid method",
      "{\"service\":42,\"method\":\"m\"}               | invalid request body: service: a JSON number (expected: a string)",
      "{\"service\":\"s\",\"method\":{\"a\":1}}        | invalid request body: method: a JSON object (expected: a string)",
      "{\"service\":\"s\",\"method\":\"m\",\"address\":[1]} | invalid request body: address: a JSON array (expected: a string)",
      "{\"service\":true,\"method\":\"m\"}             | invalid request body: service: a JSON boolean (expected: a string)",
  })
  void namesTheMissingOrWrongField(String body, String detail) {
    assertThat(jsonError(body)).isEqualTo(detail);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "",
      "  \n",
      "[]",
      "[{\"service\":\"s\",\"method\":\"m\"}]",
      "\"service\"",
      "42",
      "null",
      "{",
      "{\"service\":\"s\",}",
      "{\"service\":\"s\" \"method\":\"m\"}",
      "{service:\"s\"}",
      "not json",
      "service=s&method=m",
      "{\"service\":\"s\",\"method\":\"m\"} {}",
      "{\"service\":\"s\",\"method\":\"m\"} x",
      "{\"service\":\"s\",\"method\":\"m\",\"request\":{\"a\":}}",
      "{\"service\":\"s\",\"method\":\"m\",\"request\":NaN}",
      "{\"service\":\"s\",\"method\":\"m\",\"request\":\"unterminated}",
  })
  void aBodyThatIsNotOneJsonObjectIsAnInvalidBody(String body) {
    assertThat(jsonError(body)).startsWith("invalid request body: ");
  }

  @Test
  void invalidBodyReasonsSayWhatWasExpected() {
    assertThat(jsonError("")).isEqualTo("invalid request body: empty (expected: a JSON object such as "
        + "{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{}})");
    assertThat(jsonError("[1]")).startsWith("invalid request body: a JSON array (expected: a JSON object");
    assertThat(jsonError("{} 1")).startsWith("invalid request body: trailing number after the JSON object");
    assertThat(catchThrowableOfType(RpcException.class, () -> RpcRequestCodec.fromJson(null)).getMessage())
        .startsWith("invalid request body: empty");
  }

  // ---- forms ----

  @Test
  void readsTheContractFormExampleAsCurlSendsIt() {
    // curl -d joins fields with & and encodes nothing
    RpcRequest r = RpcRequestCodec.fromForm(
        "service=go.micro.srv.example&method=Example.Call&request={\"name\": \"John\"}");
    assertThat(r).isEqualTo(new RpcRequest("go.micro.srv.example", "Example.Call", null, utf8("{\"name\": \"John\"}")));
  }

  @Test
  void decodesPercentEncodingPlusAsSpaceAndKeepsSemicolons() {
    RpcRequest r = RpcRequestCodec.fromForm(
        "service=go.micro.srv.example&method=Example.Call&address=127.0.0.1%3A9090"
            + "&request=%7B%22name%22%3A+%22J%C3%B6hn%3Bx%22%7D");
    assertThat(r).isEqualTo(new RpcRequest("go.micro.srv.example", "Example.Call", "127.0.0.1:9090",
        utf8("{\"name\": \"Jöhn;x\"}")));
    assertThat(request(RpcRequestCodec.fromForm("service=s&method=m&request={\"a\":\"x;y\"}"))).isEqualTo("{\"a\":\"x;y\"}");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"service", "Service", "SERVICE"})
  void formKeysMatchWhateverTheirCase(String key) {
    String upper = key.equals("service") ? "method" : key.equals("Service") ? "Method" : "METHOD";
    String req = key.equals("service") ? "request" : key.equals("Service") ? "Request" : "REQUEST";
    assertThat(RpcRequestCodec.fromForm(key + "=s&" + upper + "=m&" + req + "=[1]"))
        .isEqualTo(new RpcRequest("s", "m", null, utf8("[1]")));
  }

  @Test
  void theExactLowercaseKeyAndTheFirstValueWin() {
    assertThat(RpcRequestCodec.fromForm("Service=b&service=a&service=c&method=m"))
        .isEqualTo(new RpcRequest("a", "m", null, utf8("null")));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"service=s&method=m", "service=s&method=m&request=", "service=s&method=m&request=+%20"})
  void anAbsentOrBlankFormRequestIsNull(String body) {
    assertThat(RpcRequestCodec.fromForm(body)).isEqualTo(new RpcRequest("s", "m", null, utf8("null")));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "''                                   | invalid service",
      "method=m                             | invalid service",
      "service=&method=m                    | invalid service",
      "service=s                            | invalid method",
      "service=s&method=                    | invalid method",
      "method=m&request={bad                | invalid service",
  })
  void formsNameTheMissingField(String body, String detail) {
    assertThat(formError(body)).isEqualTo(detail);
  }

  @Test
  void aNullFormBodyIsAnEmptyOne() {
    assertThat(formError(null)).isEqualTo("invalid service");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "service=s&method=m&request={bad",
      "service=s&method=m&request=not+json",
      "service=s&method=m&request={\"a\":1}x",
      "service=s&method=m&request=1+2",
  })
  void anUndecodableFormRequestIsInvalidRequest(String body) {
    assertThat(formError(body)).startsWith("invalid request: ");
  }

  @Test
  void aMalformedPercentEscapeIsAnInvalidBody() {
    assertThat(formError("service=s%zz&method=m")).startsWith("invalid request body: ");
  }

  @Test
  void requestsCompareByContent() {
    RpcRequest a = new RpcRequest("s", "m", null, utf8("{}"));
    assertThat(a).isEqualTo(new RpcRequest("s", "m", null, utf8("{}"))).hasSameHashCodeAs(new RpcRequest("s", "m", null, utf8("{}")));
    assertThat(a).isNotEqualTo(new RpcRequest("s", "m", "h:1", utf8("{}")));
    assertThat(a.toString()).isEqualTo("RpcRequest[service=s, method=m, address=null, request={}]");
  }

  @Test
  void aJsonBodysRequestIsItsValueInPlaceComparingAsTheValueAlone() {
    byte[] body = utf8("{\"service\":\"s\",\"request\": {\"a\": [1, 2]} ,\"method\":\"m\"}");
    RpcRequest r = RpcRequestCodec.fromJson(body);
    assertThat(r.bytes()).isSameAs(body);
    assertThat(new String(r.request(), StandardCharsets.UTF_8)).isEqualTo("{\"a\": [1, 2]}");
    RpcRequest copied = new RpcRequest("s", "m", null, utf8("{\"a\": [1, 2]}"));
    assertThat(r).isEqualTo(copied).hasSameHashCodeAs(copied);
    assertThat(r.toString()).isEqualTo("RpcRequest[service=s, method=m, address=null, request={\"a\": [1, 2]}]");
  }
}
