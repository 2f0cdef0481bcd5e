package io.micro.sidecar.core.rpc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.micro.sidecar.core.text.Shown;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Reads the body of {@code POST /rpc} (contract §4) in either of its forms: a JSON object or
 * form fields. Both carry {@code service}, {@code method}, optional {@code address} and
 * {@code request}; the request becomes the raw bytes of one valid JSON value, never parsed into a
 * tree.
 *
 * <p>Checks run in the order a caller fixes them: the body's syntax, then {@code service}, then
 * {@code method}, then the request. Every failure is an {@link RpcException} with a 400
 * {@code go.micro.rpc} error whose detail is one line:
 * {@code invalid request body: ...}, {@code invalid service}, {@code invalid method} or
 * {@code invalid request: ...}.
 *
 * <p>An absent, empty or blank request, in either form, is sent as {@code null}
 * ({@code "params":[null]}), as the original sent it; a JSON {@code null} request is passed on as
 * {@code null}; an empty {@code address} means none. The catch-all's empty body is {@code {}}.
 *
 * <p>Stateless and thread-safe; never blocks.
 */
public final class RpcRequestCodec {

  private static final byte[] EMPTY_OBJECT = {'{', '}'};
  /** What a missing request is sent as on {@code /rpc}: {@code "params":[null]}, as the original sent it. */
  private static final byte[] NULL = {'n', 'u', 'l', 'l'};
  private static final String EXPECTED_BODY =
      " (expected: a JSON object such as {\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{}})";

  private RpcRequestCodec() {}

  /**
   * Reads a JSON body. Keys match case-insensitively ({@code service}, {@code Service},
   * {@code SERVICE}...); unknown keys are skipped; a repeated key counts by its last occurrence, as
   * Go's decoder does. {@code request} is any JSON value, taken byte for byte, or a string holding
   * JSON, whose content is then the request. Nesting deeper than 64 is refused.
   *
   * @throws RpcException 400, see the class description
   */
  public static RpcRequest fromJson(byte[] body) {
    if (body == null) {
      throw RpcException.badRequest("invalid request body: empty" + EXPECTED_BODY);
    }
    String service = null;
    String method = null;
    String address = null;
    int from = -1;
    int to = -1;
    String requestText = null;
    try (JsonParser p = JsonSlices.FACTORY.createParser(body)) {
      JsonSlices.rejectNul(body, 0, body.length);
      JsonToken first = p.nextToken();
      if (first == null) {
        throw RpcException.badRequest("invalid request body: empty" + EXPECTED_BODY);
      }
      if (first != JsonToken.START_OBJECT) {
        throw RpcException.badRequest(
            "invalid request body: a JSON " + JsonSlices.describe(first) + EXPECTED_BODY);
      }
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        String key = p.currentName();
        JsonToken v = p.nextToken();
        if ("service".equalsIgnoreCase(key)) {
          service = string(p, v, "service");
        } else if ("method".equalsIgnoreCase(key)) {
          method = string(p, v, "method");
        } else if ("address".equalsIgnoreCase(key)) {
          address = string(p, v, "address");
        } else if ("request".equalsIgnoreCase(key)) {
          if (v == JsonToken.VALUE_STRING) {
            requestText = p.getText();
            from = -1;
          } else {
            // the value stays where it is in the body: the call writes it from there
            long range = JsonSlices.skipValue(p);
            from = JsonSlices.start(range);
            to = JsonSlices.end(range);
            requestText = null;
          }
        } else {
          p.skipChildren();
        }
      }
      JsonToken extra = p.nextToken();
      if (extra != null) {
        throw RpcException.badRequest("invalid request body: trailing "
            + JsonSlices.describe(extra) + " after the JSON object" + EXPECTED_BODY);
      }
    } catch (IOException e) {
      throw RpcException.badRequest("invalid request body: " + JsonSlices.reason(e));
    }
    checkServiceAndMethod(service, method);
    address = emptyToNull(address);
    if (requestText != null) {
      return new RpcRequest(service, method, address, requestFromString(requestText));
    }
    return from < 0 ? new RpcRequest(service, method, address, NULL)
        : new RpcRequest(service, method, address, body, from, to - from, false);
  }

  /**
   * Reads an {@code application/x-www-form-urlencoded} body
   * ({@code service=...&method=...&request=...&address=...}). {@code request} is a string holding
   * JSON. Keys match case-insensitively, an exact lowercase key winning; of repeated keys the first
   * counts, as Go's {@code Form.Get} does. {@code ;} is an ordinary character, not a separator, so
   * that it survives inside JSON strings sent unencoded by {@code curl -d}; {@code +} reads as a
   * space, as in every form.
   *
   * @throws RpcException 400, see the class description
   */
  public static RpcRequest fromForm(String body) {
    Map<String, List<String>> params;
    try {
      params = QueryStringDecoder.builder().hasPath(false).semicolonIsNormalChar(true)
          .build(body == null ? "" : body).parameters();
    } catch (IllegalArgumentException e) {
      throw RpcException.badRequest("invalid request body: " + Shown.firstLine(e.getMessage()));
    }
    String service = first(params, "service");
    String method = first(params, "method");
    checkServiceAndMethod(service, method);
    String request = first(params, "request");
    return new RpcRequest(service, method, emptyToNull(first(params, "address")),
        request == null ? NULL : requestFromString(request));
  }

  /**
   * The request of the catch-all route: {@code body} is the whole request, one JSON value (an empty
   * body means {@code {}}), passed to the app as it is.
   *
   * @throws RpcException 400 {@code invalid request: ...} when the body is not one JSON value
   */
  public static RpcRequest fromBody(String service, String method, byte[] body) {
    checkServiceAndMethod(service, method);
    byte[] request = body == null ? EMPTY_OBJECT : requestFromBytes(body);
    return new RpcRequest(service, method, null, request);
  }

  private static void checkServiceAndMethod(String service, String method) {
    if (service == null || service.isEmpty()) {
      throw RpcException.badRequest("invalid service");
    }
    if (method == null || method.isEmpty()) {
      throw RpcException.badRequest("invalid method");
    }
  }

  /** The JSON a request string holds, exactly one value with the whitespace around it trimmed. */
  private static byte[] requestFromString(String text) {
    if (text.isBlank()) {
      return NULL;
    }
    return requestFromBytes(text.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] requestFromBytes(byte[] json) {
    if (firstNonBlank(json) < 0) {
      return EMPTY_OBJECT;
    }
    long range;
    try {
      range = JsonSlices.validate(json);
    } catch (IOException e) {
      throw RpcException.badRequest("invalid request: " + JsonSlices.reason(e));
    }
    int start = JsonSlices.start(range);
    int end = JsonSlices.end(range);
    // A number at the root may be reported with the blank that ended it.
    while (end > start && isBlank(json[end - 1])) {
      end--;
    }
    return start == 0 && end == json.length ? json : Arrays.copyOfRange(json, start, end);
  }

  private static String string(JsonParser p, JsonToken v, String field) throws IOException {
    if (v == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    if (v == JsonToken.VALUE_NULL) {
      return null;
    }
    throw RpcException.badRequest("invalid request body: " + field + ": a JSON "
        + JsonSlices.describe(v) + " (expected: a string)");
  }

  private static String first(Map<String, List<String>> params, String key) {
    List<String> values = params.get(key);
    if (values == null) {
      for (Map.Entry<String, List<String>> e : params.entrySet()) {
        if (e.getKey().equalsIgnoreCase(key)) {
          values = e.getValue();
          break;
        }
      }
    }
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static int firstNonBlank(byte[] json) {
    for (int i = 0; i < json.length; i++) {
      if (!isBlank(json[i])) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }
}
