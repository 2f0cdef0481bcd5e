package io.micro.sidecar.core.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class MicroErrorTest {

  private static String json(MicroError e) {
    return new String(e.toJson(), StandardCharsets.UTF_8);
  }

  @Test
  void writesTheContractExampleExactly() {
    assertThat(json(MicroError.badRequest("invalid service")))
        .isEqualTo("{\"id\":\"go.micro.rpc\",\"code\":400,\"detail\":\"invalid service\",\"status\":\"Bad Request\"}");
  }

  @Test
  void escapesQuotesControlCharactersAndKeepsUnicode() {
    MicroError e = new MicroError("a\"b", 500, "line1\nline2\t\\ é \u0001", "Internal Server Error");
    assertThat(json(e)).isEqualTo(
        "{\"id\":\"a\\\"b\",\"code\":500,\"detail\":\"line1\\nline2\\t\\\\ é \\u0001\",\"status\":\"Internal Server Error\"}");
    assertThat(MicroError.parse(json(e))).contains(e);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "400, Bad Request",
      "404, Not Found",
      "405, Method Not Allowed",
      "408, Request Timeout",
      "415, Unsupported Media Type",
      "500, Internal Server Error",
      "502, Bad Gateway",
      "503, Service Unavailable",
  })
  void ofFillsTheHttpReasonPhrase(int code, String status) {
    assertThat(MicroError.of("x", code, "d")).isEqualTo(new MicroError("x", code, "d", status));
  }

  @Test
  void shortcutsCarryTheIdsGoMicroUses() {
    assertThat(MicroError.badRequest("b")).isEqualTo(new MicroError("go.micro.rpc", 400, "b", "Bad Request"));
    assertThat(MicroError.notFound("service not found"))
        .isEqualTo(new MicroError("go.micro.client", 404, "service not found", "Not Found"));
    assertThat(MicroError.serviceUnavailable("none available"))
        .isEqualTo(new MicroError("go.micro.client", 503, "none available", "Service Unavailable"));
    assertThat(MicroError.timeout("deadline exceeded"))
        .isEqualTo(new MicroError("go.micro.client", 408, "deadline exceeded", "Request Timeout"));
  }

  @Test
  void nullStringsBecomeEmptyAndNonPositiveCodesAreRefused() {
    assertThat(new MicroError(null, 500, null, null)).isEqualTo(new MicroError("", 500, "", ""));
    assertThat(json(new MicroError(null, 500, null, null)))
        .isEqualTo("{\"id\":\"\",\"code\":500,\"detail\":\"\",\"status\":\"\"}");
    assertThatThrownBy(() -> MicroError.of("x", 0, "d"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("code: 0 (expected: a positive status code)");
  }

  @Test
  void parsesAMicroErrorWithAnyKeyCase() {
    assertThat(MicroError.parse("{\"Id\":\"go.micro.srv.x\",\"CODE\":404,\"Detail\":\"not here\",\"sTaTuS\":\"Not Found\"}"))
        .contains(new MicroError("go.micro.srv.x", 404, "not here", "Not Found"));
  }

  @Test
  void parseFillsAnAbsentOrEmptyStatusAndIgnoresUnknownKeys() {
    assertThat(MicroError.parse(" {\"code\":409,\"detail\":\"taken\",\"extra\":{\"a\":[1,2]},\"status\":\"\"} "))
        .contains(new MicroError("", 409, "taken", "Conflict"));
    assertThat(MicroError.parse("{\"code\":500,\"id\":null}"))
        .contains(new MicroError("", 500, "", "Internal Server Error"));
  }

  @Test
  void parseKeepsAStatusTheAppChose() {
    assertThat(MicroError.parse("{\"code\":500,\"status\":\"Boom\"}"))
        .contains(new MicroError("", 500, "", "Boom"));
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {
      "boom",
      "[{\"code\":500}]",
      "\"{\\\"code\\\":500}\"",
      "{\"detail\":\"no code\"}",
      "{\"code\":0,\"detail\":\"zero\"}",
      "{\"code\":-32601,\"message\":\"method not found\"}",
      "{\"code\":\"500\"}",
      "{\"code\":500.5}",
      "{\"code\":99999999999}",
      "{\"code\":500,\"detail\":42}",
      "{\"code\":500,\"id\":[\"x\"]}",
      "{\"code\":500} trailing",
      "{\"code\":500}{\"code\":501}",
      "{\"code\":500",
  })
  void parseIsEmptyForAnythingButAMicroErrorObject(String text) {
    assertThat(MicroError.parse(text)).isEqualTo(Optional.empty());
  }
}
