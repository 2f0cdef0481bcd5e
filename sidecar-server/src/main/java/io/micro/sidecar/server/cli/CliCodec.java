package io.micro.sidecar.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micro.sidecar.core.registry.InvalidServiceException;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.registry.ServiceCodec;
import io.micro.sidecar.core.text.Shown;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** JSON for the CLI: reading the sidecar's answers, checking the user's arguments, writing /rpc bodies. */
final class CliCodec {

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private CliCodec() {}

  /** The array answer of {@code GET /registry}. @throws SidecarClient.Failure when it is not one */
  static List<Service> services(String body) {
    try {
      List<Service> services = JSON.readValue(body, new TypeReference<List<Service>>() {});
      return services == null ? List.of() : services.stream().filter(s -> s != null).toList();
    } catch (JsonProcessingException e) {
      throw new SidecarClient.Failure("unexpected answer from the sidecar (expected: a JSON array of services): "
          + Shown.collapsed(body));
    }
  }

  /**
   * Checks that {@code json} reads as a Service; whether it is complete (name, nodes) is the sidecar's
   * to judge. @return the reason it does not, or null
   */
  static String serviceProblem(String json) {
    try {
      ServiceCodec.decode(json.getBytes(StandardCharsets.UTF_8));
      return null;
    } catch (InvalidServiceException e) {
      return e.getMessage();
    }
  }

  /** @return why {@code json} is not one JSON value, or null */
  static String jsonProblem(String json) {
    try {
      JSON.readTree(json);
      return json.isBlank() ? "empty (expected: a JSON value such as {})" : null;
    } catch (JsonProcessingException e) {
      // Jackson appends where an open object started, quoting no source; the first clause is the reason.
      return "invalid JSON: " + Shown.collapsed(e.getOriginalMessage()).replaceFirst(" \\(start marker at .*$", "");
    }
  }

  /** {@code {"service":..,"method":..,"request":"<json string>"[,"address":..]}} for {@code POST /rpc}. */
  static String rpcRequest(String service, String method, String request, String address) {
    ObjectNode body = JSON.createObjectNode().put("service", service).put("method", method).put("request", request);
    if (address != null) {
      body.put("address", address);
    }
    return body.toString();
  }

  /**
   * A health check's status from a 2xx {@code Debug.Health} answer: its {@code status} string when it
   * has one (go-micro answers {@code {"status":"ok"}}), otherwise {@code ok}.
   */
  static String healthStatus(String body) {
    JsonNode status = tree(body).path("status");
    return status.isTextual() && !status.asText().isBlank() ? status.asText() : "ok";
  }

  /** The {@code detail} of a micro error answer, or the whole body on one line when it is not one. */
  static String errorDetail(int status, String body) {
    JsonNode detail = tree(body).path("detail");
    if (detail.isTextual() && !detail.asText().isBlank()) {
      return Shown.collapsed(detail.asText());
    }
    String line = Shown.collapsed(body);
    return line.isEmpty() ? Integer.toString(status) : status + " " + line;
  }

  /** Valid JSON of any kind, for the pretty printer. */
  static boolean isJson(String body) {
    try {
      JSON.readTree(body);
      return !body.isBlank();
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  private static JsonNode tree(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      return n == null ? JSON.missingNode() : n;
    } catch (JsonProcessingException e) {
      return JSON.missingNode();
    }
  }
}
