package io.micro.sidecar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

  @ParameterizedTest
  @CsvSource({
      "300ms, PT0.3S", "10s, PT10S", "1m30s, PT1M30S", "1.5h, PT1H30M", "0, PT0S", "2h45m, PT2H45M",
      "100us, PT0.0001S", "1µs, PT0.000001S", "5ns, PT0.000000005S", "-1s, PT-1S", ".5s, PT0.5S"})
  void parsesGoSyntax(String text, Duration expected) {
    assertThat(GoDuration.parse(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "5x", "s", "1..5s", "10 s", "1s2", "abc", "-", "9999999999h"})
  void rejectsWhatGoRejectsNamingTheText(String text) {
    assertThatThrownBy(() -> GoDuration.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }

  @ParameterizedTest
  @CsvSource({"PT5S, 5s", "PT1M30S, 1m30s", "PT0.3S, 300ms", "PT1H, 1h0m0s", "PT0S, 0s", "PT1.5S, 1.5s"})
  void formatsAsGoDoes(Duration d, String expected) {
    assertThat(GoDuration.format(d)).isEqualTo(expected);
    assertThat(GoDuration.parse(expected)).isEqualTo(d);
  }
}
