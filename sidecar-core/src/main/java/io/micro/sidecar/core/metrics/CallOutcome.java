package io.micro.sidecar.core.metrics;

import java.util.Locale;

/** How one call to an app ended: a small fixed set, so it can be a metric label. */
public enum CallOutcome {
  /** The app answered with a result (RPC) or a status below 500 (proxy). */
  OK,
  /** The app answered with an error of its own, or a 5xx. */
  ERROR,
  /** No answer within the deadline. */
  TIMEOUT,
  /** The exchange broke after it started (502). */
  UNREACHABLE,
  /** No such service in the registry (404). */
  NOT_FOUND,
  /** The service had no usable node, or every node refused the connection (503). */
  UNAVAILABLE,
  /** The caller went away first. */
  CANCELLED;

  private final String label = name().toLowerCase(Locale.ROOT);

  /** The lower-case name used as a label value and JSON key. */
  public String label() {
    return label;
  }

  /** The outcome a failed call's micro error code stands for. */
  public static CallOutcome ofErrorCode(int code) {
    return switch (code) {
      case 404 -> NOT_FOUND;
      case 408, 504 -> TIMEOUT;
      case 502 -> UNREACHABLE;
      case 503 -> UNAVAILABLE;
      default -> ERROR;
    };
  }
}
