package io.micro.sidecar.core.text;

/**
 * Text from outside (a client's value, a parser's message, an answer's body) as an error message, a log
 * line or the CLI may show it: on one line, bounded, control characters escaped as JSON and Java write
 * them (a backslash, {@code u} and four hex digits). The one place these rules live; stateless.
 */
public final class Shown {

  /** Longest value {@link #quoted} shows. */
  private static final int VALUE = 64;
  /** Longest parser message {@link #firstLine} shows. */
  private static final int MESSAGE = 200;
  /** Longest text {@link #line(String)} shows: what an answer echoes of a request. */
  private static final int ECHO = 80;
  /** Longest body {@link #collapsed(String)} shows. */
  private static final int BODY = 500;

  private Shown() {
  }

  /**
   * {@code text} on one line: cut after {@code max} characters (marked with "…"), control characters
   * escaped; "(none)" for null.
   */
  public static String line(String text, int max) {
    if (text == null) {
      return "(none)";
    }
    boolean cut = text.length() > max;
    String s = cut ? text.substring(0, max) : text;
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < ' ' || c == 0x7f) {
        if (b == null) {
          b = new StringBuilder(s.length() + 16).append(s, 0, i);
        }
        b.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
      } else if (b != null) {
        b.append(c);
      }
    }
    String line = b == null ? s : b.toString();
    return cut ? line + "…" : line;
  }

  /** Text a client sent as an answer echoes it: {@link #line(String, int)} up to 80 characters. */
  public static String line(String text) {
    return line(text, ECHO);
  }

  /** A value a client sent, in double quotes, as {@link #line} shows it up to 64 characters. */
  public static String quoted(String value) {
    return '"' + line(value, VALUE) + '"';
  }

  /**
   * The first line of a parser's message (Jackson's run over several lines and quote the source), as
   * {@link #line} shows it up to 200 characters; "unreadable" for null.
   */
  public static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int nl = message.indexOf('\n');
    String first = nl < 0 ? message : message.substring(0, nl);
    return line(first.endsWith("\r") ? first.substring(0, first.length() - 1) : first, MESSAGE);
  }

  /**
   * {@code text} stripped, each run of whitespace that holds a line break made one space, then as
   * {@link #line} shows it up to {@code max} characters; empty for null. For an answer's body shown to
   * a person.
   */
  public static String collapsed(String text, int max) {
    return text == null ? "" : line(text.strip().replaceAll("\\s*[\\r\\n]+\\s*", " "), max);
  }

  /** {@link #collapsed(String, int)} up to 500 characters. */
  public static String collapsed(String text) {
    return collapsed(text, BODY);
  }
}
