package io.micro.sidecar.server.stats;

import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.metrics.CallOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Calls to apps by service and outcome: {@code sidecar_app_calls_total{service,outcome}}. Service names
 * come from clients (an unknown one too), so at most {@link #MAX_SERVICES} distinct ones get their own
 * series; the rest are counted as {@code other}.
 *
 * <p>Thread-safe and non-blocking; called on event loops as calls end.
 */
final class ServiceCalls implements CallObserver {

  static final int MAX_SERVICES = 100;
  static final String OTHER = "other";
  static final String NAME = "sidecar.app.calls";

  private final MeterRegistry registry;
  private final Map<String, Counters> services = new ConcurrentHashMap<>();

  ServiceCalls(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void called(String service, CallOutcome outcome, long nanos) {
    Counters c = services.get(service);
    if (c == null) {
      String name = services.size() >= MAX_SERVICES ? OTHER : service;
      c = services.computeIfAbsent(name, Counters::new);
    }
    c.count(outcome);
  }

  /** Calls by outcome label, per service, sorted by service. */
  Map<String, Map<String, Long>> snapshot() {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    services.forEach((name, c) -> {
      Map<String, Long> by = new TreeMap<>();
      for (CallOutcome o : CallOutcome.values()) {
        Counter counter = c.counters.get(o.ordinal());
        if (counter != null) {
          by.put(o.label(), (long) counter.count());
        }
      }
      out.put(name, by);
    });
    return out;
  }

  private final class Counters {
    final String service;
    final AtomicReferenceArray<Counter> counters = new AtomicReferenceArray<>(CallOutcome.values().length);

    Counters(String service) {
      this.service = service;
    }

    void count(CallOutcome outcome) {
      Counter c = counters.get(outcome.ordinal());
      if (c == null) {
        // registering the same name and tags twice returns the same counter, so a race costs nothing
        c = Counter.builder(NAME).description("Calls to apps by service and outcome")
            .tag("service", service).tag("outcome", outcome.label()).register(registry);
        counters.set(outcome.ordinal(), c);
      }
      c.increment();
    }
  }
}
