package io.micro.sidecar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HostPortTest {

  @Test
  void splitsOnTheLastColon() {
    assertThat(HostPort.parse("127.0.0.1:9090")).isEqualTo(new HostPort("127.0.0.1", 9090));
    assertThat(HostPort.parse("[::1]:8081")).isEqualTo(new HostPort("::1", 8081));
    assertThat(HostPort.parse(":8081")).isEqualTo(new HostPort("", 8081));
    assertThat(HostPort.parse(":8081").anyHost()).isTrue();
    assertThat(HostPort.parse("[::1]:8081")).hasToString("[::1]:8081");
  }

  @Test
  void rejectsMissingOrBadPorts() {
    assertThatThrownBy(() -> HostPort.parse("localhost")).hasMessageContaining("expected: host:port");
    assertThatThrownBy(() -> HostPort.parse("localhost:http")).hasMessageContaining("no numeric port");
    assertThatThrownBy(() -> HostPort.parse("localhost:70000")).hasMessageContaining("port 70000");
  }
}
