package io.micro.sidecar.server.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TraceParentTest {

  private static final String PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  private final RandomGenerator random = new SplittableRandom(42);

  @Test
  void aValidParentKeepsItsTraceIdFlagsAndStateAndGetsANewParentId() {
    HttpHeaders h = new DefaultHttpHeaders().set("traceparent", PARENT).set("tracestate", "a=b");
    TraceParent.prepare(h, random);
    String out = h.get("traceparent");
    assertThat(out).hasSize(55).startsWith(PARENT.substring(0, 36)).endsWith("-01");
    assertThat(out.substring(36, 52)).isNotEqualTo("00f067aa0ba902b7").matches("[0-9a-f]{16}");
    assertThat(h.get("tracestate")).isEqualTo("a=b");
  }

  @Test
  void noParentStartsASampledTrace() {
    HttpHeaders h = new DefaultHttpHeaders();
    TraceParent.prepare(h, random);
    assertThat(h.get("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
  void invalidParentsAreRefused(String h) {
    assertThat(TraceParent.valid(h)).isFalse();
    assertThat(TraceParent.traceId(h)).isNull();
  }

  @Test
  void aLaterVersionMayCarryMoreFields() {
    assertThat(TraceParent.valid("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more")).isTrue();
    assertThat(TraceParent.traceId(PARENT)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
  }
}
