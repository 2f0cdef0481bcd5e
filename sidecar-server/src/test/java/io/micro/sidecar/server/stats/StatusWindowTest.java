package io.micro.sidecar.server.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StatusWindowTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final StatusWindow window = new StatusWindow(now::get);

  @Test
  void countsByClassInFiveSecondBuckets() {
    window.record(200);
    window.record(204);
    window.record(404);
    window.record(503);
    now.addAndGet(5);
    window.record(101);
    window.record(302);
    window.record(999);
    List<StatusWindow.Counter> c = window.snapshot(1_000_000);
    assertThat(c).hasSize(2);
    assertThat(c.get(0).timestamp()).isEqualTo(1_000_000);
    assertThat(c.get(0).byClass()).containsExactly(0, 0, 2, 0, 1, 1);
    assertThat(c.get(0).total()).isEqualTo(4);
    assertThat(c.get(1).timestamp()).isEqualTo(1_000_005);
    assertThat(c.get(1).byClass()).containsExactly(1, 1, 0, 1, 0, 0);
    assertThat(StatusWindow.key(2)).isEqualTo("20x");
  }

  @Test
  void keepsTheLast24AndReusesBucketsOnlyForTheirNewPeriod() {
    window.record(200);
    now.addAndGet(5 * 24);
    window.record(500);
    List<StatusWindow.Counter> c = window.snapshot(0);
    assertThat(c).hasSize(24);
    assertThat(c.get(0).timestamp()).isEqualTo(1_000_005);
    assertThat(c.stream().mapToLong(StatusWindow.Counter::total).sum()).as("the first period fell out").isEqualTo(1);
    assertThat(c.get(23).byClass()[5]).isEqualTo(1);
    assertThat(c.get(23).byClass()[2]).as("the reused bucket was reset").isZero();
  }

  @Test
  void listsNothingBeforeTheStart() {
    now.addAndGet(7);
    assertThat(window.snapshot(now.get())).hasSize(1);
    assertThat(window.snapshot(now.get()).get(0).total()).isZero();
  }
}
