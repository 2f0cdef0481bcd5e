package io.micro.sidecar.server.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4, enough to prove a scrape parses: every line is
 * a comment ({@code # HELP}, {@code # TYPE}) or {@code name{label="value",...} number}; anything
 * else throws.
 */
final class PrometheusText {

  private static final Pattern SAMPLE = Pattern.compile(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( -?[0-9]+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");
  private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");

  record Sample(String name, Map<String, String> labels, double value) {}

  private PrometheusText() {}

  static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    int n = 0;
    for (String line : text.split("\n")) {
      n++;
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        if (line.startsWith("# TYPE") && !TYPE.matcher(line).matches()) {
          throw new IllegalArgumentException("line " + n + ": bad TYPE: " + line);
        }
        if (!line.startsWith("# TYPE") && !line.startsWith("# HELP")) {
          throw new IllegalArgumentException("line " + n + ": unknown comment: " + line);
        }
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("line " + n + ": not a sample: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null && !m.group(3).isEmpty()) {
        Matcher l = LABEL.matcher(m.group(3));
        int at = 0;
        while (l.find() && l.start() == at) {
          labels.put(l.group(1), l.group(2));
          at = l.end();
        }
        if (at != m.group(3).length()) {
          throw new IllegalArgumentException("line " + n + ": bad labels: " + line);
        }
      }
      String v = m.group(4);
      double value = switch (v) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        default -> Double.parseDouble(v);
      };
      out.add(new Sample(m.group(1), labels, value));
    }
    return out;
  }
}
