package io.micro.sidecar.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ShownTest {

  @Test
  void controlCharactersAreEscapedAndTheRestKept() {
    assertThat(Shown.line("a\u0000b\nc\u007fé €", 80)).isEqualTo("a\\u0000b\\u000ac\\u007fé €");
    assertThat(Shown.line("plain")).isSameAs("plain");
    assertThat(Shown.line(null)).isEqualTo("(none)");
  }

  @Test
  void longTextIsCutBeforeEscapingAndMarked() {
    assertThat(Shown.line("x".repeat(81))).isEqualTo("x".repeat(80) + "…");
    assertThat(Shown.line("x".repeat(80))).isEqualTo("x".repeat(80));
    assertThat(Shown.line("\n".repeat(3), 2)).isEqualTo("\\u000a\\u000a…");
  }

  @Test
  void aValueIsQuotedUpTo64Characters() {
    assertThat(Shown.quoted("a\tb")).isEqualTo("\"a\\u0009b\"");
    assertThat(Shown.quoted("y".repeat(65))).isEqualTo("\"" + "y".repeat(64) + "…\"");
  }

  @Test
  void aParserMessageKeepsItsFirstLine() {
    assertThat(Shown.firstLine("Unexpected character ('x')\r\n at [Source: ...]")).isEqualTo("Unexpected character ('x')");
    assertThat(Shown.firstLine("z".repeat(201))).isEqualTo("z".repeat(200) + "…");
    assertThat(Shown.firstLine(null)).isEqualTo("unreadable");
  }

  @Test
  void aBodyIsCollapsedOntoOneLine() {
    assertThat(Shown.collapsed("  first\r\n   second \n\nthird  ")).isEqualTo("first second third");
    assertThat(Shown.collapsed("tab\tstays")).isEqualTo("tab\\u0009stays");
    assertThat(Shown.collapsed(null)).isEmpty();
  }
}
