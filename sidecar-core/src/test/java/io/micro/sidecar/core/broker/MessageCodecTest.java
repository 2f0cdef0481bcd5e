package io.micro.sidecar.core.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MessageCodecTest {

  private static String encode(Map<String, String> header, byte[] body) {
    return new String(MessageCodec.encode(Message.of(header, body)), StandardCharsets.UTF_8);
  }

  @Test
  void writesWhatGoMicrosClientsUnmarshal() {
    assertThat(encode(Map.of("Content-Type", "text/plain"), "hello world".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("{\"Header\":{\"Content-Type\":\"text/plain\"},\"Body\":\"aGVsbG8gd29ybGQ=\"}");
  }

  @Test
  void sortsHeaderKeysAsGoDoesAndEscapesValues() {
    Map<String, String> header = new LinkedHashMap<>();
    header.put("Timestamp", "1499951537");
    header.put("Content-Type", "application/json");
    header.put("X-Quote", "say \"hi\"\n");
    assertThat(encode(header, "{}".getBytes(StandardCharsets.UTF_8))).isEqualTo(
        "{\"Header\":{\"Content-Type\":\"application/json\",\"Timestamp\":\"1499951537\",\"X-Quote\":\"say \\\"hi\\\"\\n\"},"
            + "\"Body\":\"e30=\"}");
  }

  @Test
  void anEmptyBodyAndHeaderAreAnEmptyStringAndObject() {
    assertThat(encode(null, null)).isEqualTo("{\"Header\":{},\"Body\":\"\"}");
  }

  @Test
  void largeBinaryBodiesAreOneLineOfStandardPaddedBase64() {
    byte[] body = new byte[16 * 1024 + 1];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) (i * 31);
    }
    String json = encode(Map.of(), body);
    String base64 = json.substring("{\"Header\":{},\"Body\":\"".length(), json.length() - 2);
    assertThat(base64).doesNotContain("\n").endsWith("=").isEqualTo(Base64.getEncoder().encodeToString(body));
  }

  private static Message decode(String json) {
    return MessageCodec.decode(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void decodesWhatItEncodes() {
    Message m = Message.of(Map.of("Content-Type", "text/plain", ":topic", "foo"), new byte[] {0, (byte) 0xff, 42});
    assertThat(MessageCodec.decode(MessageCodec.encode(m))).isEqualTo(m);
  }

  @Test
  void decodesKeysInAnyCaseIgnoresOthersAndTakesNullForEmpty() {
    assertThat(decode("{\"header\":{\"A\":\"1\"},\"BODY\":\"aGk=\",\"Extra\":[1,{\"x\":2}]}"))
        .isEqualTo(Message.of(Map.of("A", "1"), "hi".getBytes(StandardCharsets.UTF_8)));
    assertThat(decode("{\"Header\":null,\"Body\":null}")).isEqualTo(Message.of(null, null));
    assertThat(decode("{}")).isEqualTo(Message.of(null, null));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "[]", "{\"Body\":\"not base64!\"}", "{\"Body\":42}", "{\"Header\":{\"A\":1}}",
      "{\"Header\":[]}", "{\"Body\":\"aGk=\"", "{} {}"})
  void refusesWhatIsNotAMessageWithAReason(String json) {
    Assertions.assertThatThrownBy(() -> decode(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected");
  }
}
