package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RouteTest {

  @Test
  void everyListedPathIsItsRouteAndEveryOtherPathTheCatchAlls() {
    for (Route r : Route.values()) {
      if (r.path() != null) {
        assertThat(Route.of(r.path(), true, true)).isEqualTo(r);
      }
    }
    assertThat(Route.of("", true, true)).isEqualTo(Route.ROOT);
    assertThat(Route.of("/greeter/say/hello", true, true)).isEqualTo(Route.CATCH_ALL);
    assertThat(Route.of("/registry/", true, true)).as("exact paths only").isEqualTo(Route.CATCH_ALL);
  }

  @Test
  void statsAndMetricsAreTheCatchAllsWhenNotServed() {
    assertThat(Route.of("/stats", false, true)).isEqualTo(Route.CATCH_ALL);
    assertThat(Route.of("/metrics", true, false)).isEqualTo(Route.CATCH_ALL);
    assertThat(Route.of("/stats", true, false)).isEqualTo(Route.STATS);
  }

  @Test
  void onlyTheOrchestratorsProbesAreOpenAndLabelsAreAFixedSet() {
    assertThat(Arrays.stream(Route.values()).filter(Route::probe)).containsExactly(Route.LIVE, Route.READY);
    assertThat(Arrays.stream(Route.values()).map(Route::label).distinct())
        .containsExactlyInAnyOrder("registry", "rpc", "broker", "health", "stats", "metrics", "catch-all");
  }
}
