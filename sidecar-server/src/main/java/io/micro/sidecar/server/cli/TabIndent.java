package io.micro.sidecar.server.cli;

/**
 * Pretty-prints JSON as Go's {@code json.Indent(dst, src, "", "\t")} does, which the original
 * {@code micro query} used: one member or element per line, a tab per level, {@code ": "} after keys,
 * empty objects and arrays kept as {@code {}} and {@code []}. Strings and numbers are copied byte for
 * byte (no re-encoding), so large numbers and escapes come out as the app wrote them.
 */
final class TabIndent {

  private TabIndent() {}

  /** @param json valid JSON (see {@link CliCodec#isJson}); whitespace outside strings is replaced */
  static String indent(String json) {
    StringBuilder out = new StringBuilder(json.length() + json.length() / 4);
    int depth = 0;
    boolean opened = false; // the last token was '{' or '['; its newline waits for the next token
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        continue;
      }
      if (opened) {
        opened = false;
        if (c == '}' || c == ']') {
          out.append(c);
          depth--;
          continue;
        }
        newline(out, depth);
      }
      switch (c) {
        case '{', '[' -> {
          out.append(c);
          depth++;
          opened = true;
        }
        case '}', ']' -> {
          depth--;
          newline(out, depth);
          out.append(c);
        }
        case ',' -> {
          out.append(c);
          newline(out, depth);
        }
        case ':' -> out.append(": ");
        case '"' -> i = string(json, i, out);
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** Copies the string starting at {@code start}; returns the index of its closing quote. */
  private static int string(String json, int start, StringBuilder out) {
    out.append('"');
    for (int i = start + 1; i < json.length(); i++) {
      char c = json.charAt(i);
      out.append(c);
      if (c == '\\' && i + 1 < json.length()) {
        out.append(json.charAt(++i));
      } else if (c == '"') {
        return i;
      }
    }
    return json.length();
  }

  private static void newline(StringBuilder out, int depth) {
    out.append('\n');
    for (int d = 0; d < depth; d++) {
      out.append('\t');
    }
  }
}
