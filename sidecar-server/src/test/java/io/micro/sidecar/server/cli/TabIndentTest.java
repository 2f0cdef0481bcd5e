package io.micro.sidecar.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TabIndentTest {

  @Test
  void indentsByTabsWithGoStyleKeySeparatorsAndCompactEmptyContainers() {
    String json = "{\"msg\":\"Hello John\",\"n\":[1, 2.50e10,{\"a\":null}],\"e\":{},\"l\":[ ],\"t\":true}";
    assertThat(TabIndent.indent(json)).isEqualTo("""
        {
        \t"msg": "Hello John",
        \t"n": [
        \t\t1,
        \t\t2.50e10,
        \t\t{
        \t\t\t"a": null
        \t\t}
        \t],
        \t"e": {},
        \t"l": [],
        \t"t": true
        }""");
  }

  @Test
  void stringsAreCopiedVerbatimIncludingEscapesAndStructuralCharacters() {
    String json = "{ \"k, {x}: [y]\" : \"a \\\"quoted\\\" \\\\ \\u00e9 , : { }\" }";
    assertThat(TabIndent.indent(json)).isEqualTo("{\n\t\"k, {x}: [y]\": \"a \\\"quoted\\\" \\\\ \\u00e9 , : { }\"\n}");
  }

  @Test
  void scalarsAndPrettyInputComeOutTheSame() {
    assertThat(TabIndent.indent("\"plain\"")).isEqualTo("\"plain\"");
    assertThat(TabIndent.indent("42")).isEqualTo("42");
    assertThat(TabIndent.indent("{\n  \"a\" : [ 1 ]\n}")).isEqualTo("{\n\t\"a\": [\n\t\t1\n\t]\n}");
  }
}
