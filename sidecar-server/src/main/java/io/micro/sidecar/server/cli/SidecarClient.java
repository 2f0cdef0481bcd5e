package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.text.Shown;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The CLI's calls to a sidecar over HTTP/1.1 (https with the JDK's default trust).
 *
 * <p>Blocking by design: the CLI is a short-lived process making one call after another, so each
 * method waits for its answer, at most {@link #TIMEOUT}. Failures to reach the sidecar and, through
 * {@link #ok}, error statuses become a {@link Failure} whose message is the one line the CLI prints.
 */
final class SidecarClient {

  /** Longest wait for connecting and for each answer; above the sidecar's own 5 s call deadline. */
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final URI base;
  private final String shown;
  private final HttpClient client;

  SidecarClient(URI base, String shown) {
    this.base = base;
    this.shown = shown;
    // HTTP/1.1 only: the JDK would otherwise offer an h2c upgrade on plain http, which the sidecar does not speak.
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
  }

  /** A status and body from the sidecar. */
  record Answer(int status, String body) {
    boolean ok() {
      return status >= 200 && status < 300;
    }
  }

  /** The CLI's one-line error: the sidecar refused the call, or could not be reached. */
  static final class Failure extends RuntimeException {
    Failure(String message) {
      super(message, null, false, false);
    }
  }

  Answer get(String pathAndQuery) {
    return send("GET", pathAndQuery, null, null);
  }

  Answer post(String pathAndQuery, String contentType, String body) {
    return send("POST", pathAndQuery, contentType, body);
  }

  Answer delete(String pathAndQuery, String contentType, String body) {
    return send("DELETE", pathAndQuery, contentType, body);
  }

  /** The body of a 2xx answer. @throws Failure {@code <status> <body on one line>} for any other */
  static String ok(Answer a) {
    if (!a.ok()) {
      String body = Shown.collapsed(a.body());
      throw new Failure(body.isEmpty() ? Integer.toString(a.status()) : a.status() + " " + body);
    }
    return a.body();
  }

  static String query(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private Answer send(String method, String pathAndQuery, String contentType, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(pathAndQuery)).timeout(TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    try {
      HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(r.statusCode(), r.body());
    } catch (HttpTimeoutException e) {
      throw new Failure("the sidecar at " + shown + " did not answer within " + TIMEOUT.toSeconds() + "s");
    } catch (IOException e) {
      throw new Failure("cannot reach the sidecar at " + shown + ": " + cause(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted while waiting for the sidecar at " + shown);
    }
  }

  /**
   * The JDK's HttpClient reports a refused connection as a ConnectException without a message, and
   * an unknown host as one caused by UnresolvedAddressException; say which in words.
   */
  private String cause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
        return "unknown host " + base.getHost();
      }
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return Shown.collapsed(t.getMessage());
      }
    }
    return e instanceof ConnectException ? "connection refused" : e.getClass().getSimpleName();
  }
}
