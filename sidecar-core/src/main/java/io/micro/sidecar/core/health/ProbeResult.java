package io.micro.sidecar.core.health;

/**
 * One health probe's outcome: healthy, or why not.
 *
 * @param status the app's HTTP status, or 0 when it did not answer
 * @param cause  empty when healthy, else {@code Non 200 response: <code>} or the connection error
 */
public record ProbeResult(boolean healthy, int status, String cause) {

  public static ProbeResult ok() {
    return new ProbeResult(true, 200, "");
  }

  public static ProbeResult status(int status) {
    return status == 200 ? ok() : new ProbeResult(false, status, "Non 200 response: " + status);
  }

  public static ProbeResult error(String cause) {
    return new ProbeResult(false, 0, cause);
  }
}
