package io.micro.sidecar.core.health;

import io.netty.handler.timeout.ReadTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/** GETs the app's health URL once, bounded by the timeout; never errors, always a {@link ProbeResult}. */
public final class HealthProbe {

  private final HttpClient http;
  private final URI url;
  private final Duration timeout;

  public HealthProbe(HttpClient http, URI url, Duration timeout) {
    this.http = http.responseTimeout(timeout);
    this.url = url;
    this.timeout = timeout;
  }

  public Mono<ProbeResult> probe() {
    return http.get()
        .uri(url)
        .responseSingle((res, body) -> body.then(Mono.just(ProbeResult.status(res.status().code()))))
        .timeout(timeout)
        .onErrorResume(e -> Mono.just(ProbeResult.error(describe(e))));
  }

  private String describe(Throwable e) {
    if (e instanceof TimeoutException || e instanceof ReadTimeoutException) {
      return "no answer from " + url + " within " + timeout.toMillis() + "ms";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
