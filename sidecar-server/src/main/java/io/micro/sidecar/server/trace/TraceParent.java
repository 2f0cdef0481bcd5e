package io.micro.sidecar.server.trace;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.random.RandomGenerator;

/**
 * W3C Trace Context ({@code traceparent}, {@code tracestate}) for the calls the sidecar makes.
 *
 * <p>Without {@code --trace_create} the sidecar only passes both headers on unchanged, like every
 * other end-to-end header. With it, {@link #prepare} runs on each incoming request before it is
 * handled and rewrites the request's own headers, so that every call made for it (RPC, catch-all,
 * proxy, WebSocket proxy) carries the result:
 * <ul>
 *   <li>a valid {@code traceparent} gets a new parent id: the sidecar's own span, a child of the
 *       caller's; the trace id and flags stay, and {@code tracestate} is passed on unchanged;</li>
 *   <li>none, or an invalid one, gets a new trace: version 00, a random 16-byte trace id, a random
 *       8-byte span id, flags 01 (sampled); an orphaned {@code tracestate} is dropped, as the spec
 *       says for a restarted trace.</li>
 * </ul>
 * The sidecar records no spans itself; this only makes the app's spans join the caller's trace.
 */
public final class TraceParent {

  public static final String TRACEPARENT = "traceparent";
  public static final String TRACESTATE = "tracestate";
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private TraceParent() {}

  /** Rewrites {@code headers} as the class describes; {@code random} supplies the ids. */
  public static void prepare(HttpHeaders headers, RandomGenerator random) {
    String incoming = headers.get(TRACEPARENT);
    if (incoming != null && valid(incoming)) {
      headers.set(TRACEPARENT, incoming.substring(0, 36) + spanId(random) + incoming.substring(52, 55));
      return;
    }
    headers.remove(TRACESTATE);
    headers.set(TRACEPARENT, create(random));
  }

  /** A new sampled trace: {@code 00-<32 hex>-<16 hex>-01}. */
  public static String create(RandomGenerator random) {
    StringBuilder b = new StringBuilder(55).append("00-");
    String trace;
    do {
      trace = hex(random.nextLong()) + hex(random.nextLong());
    } while (trace.equals("0".repeat(32)));
    return b.append(trace).append('-').append(spanId(random)).append("-01").toString();
  }

  /** The trace id of a valid {@code traceparent}, else null. */
  public static String traceId(String traceparent) {
    return traceparent != null && valid(traceparent) ? traceparent.substring(3, 35) : null;
  }

  /**
   * Version 00 as the spec lays it out (a later version may append fields after a dash), lower-case
   * hex, trace and parent ids not all zeros, version not ff.
   */
  public static boolean valid(String h) {
    if (h.length() < 55 || (h.length() > 55 && h.charAt(55) != '-')) {
      return false;
    }
    if (h.charAt(2) != '-' || h.charAt(35) != '-' || h.charAt(52) != '-') {
      return false;
    }
    if (!hex(h, 0, 2) || !hex(h, 3, 35) || !hex(h, 36, 52) || !hex(h, 53, 55) || h.startsWith("ff")) {
      return false;
    }
    if (h.startsWith("00") && h.length() != 55) {
      return false;
    }
    return !allZero(h, 3, 35) && !allZero(h, 36, 52);
  }

  private static String spanId(RandomGenerator random) {
    long id;
    do {
      id = random.nextLong();
    } while (id == 0);
    return hex(id);
  }

  private static String hex(long v) {
    char[] out = new char[16];
    for (int i = 15; i >= 0; i--) {
      out[i] = HEX[(int) (v & 0xf)];
      v >>>= 4;
    }
    return new String(out);
  }

  private static boolean hex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static boolean allZero(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }
}
