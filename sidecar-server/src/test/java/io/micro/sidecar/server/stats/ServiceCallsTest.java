package io.micro.sidecar.server.stats;

import static org.assertj.core.api.Assertions.assertThat;

import io.micro.sidecar.core.metrics.CallOutcome;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class ServiceCallsTest {

  @Test
  void distinctServicesAreCappedThenCountedAsOther() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ServiceCalls calls = new ServiceCalls(registry);
    for (int i = 0; i < ServiceCalls.MAX_SERVICES + 20; i++) {
      calls.called("svc-" + i, CallOutcome.NOT_FOUND, 1);
    }
    calls.called("svc-0", CallOutcome.OK, 1);
    assertThat(calls.snapshot()).hasSize(ServiceCalls.MAX_SERVICES + 1);
    assertThat(calls.snapshot().get("other")).containsEntry("not_found", 20L);
    assertThat(calls.snapshot().get("svc-0")).containsEntry("ok", 1L).containsEntry("not_found", 1L);
    assertThat(registry.find(ServiceCalls.NAME).counters()).hasSize(ServiceCalls.MAX_SERVICES + 2);
    assertThat(registry.get(ServiceCalls.NAME).tags("service", "other", "outcome", "not_found").counter().count()).isEqualTo(20);
  }
}
