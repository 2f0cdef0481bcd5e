package io.micro.sidecar.server.testing;

import io.micro.sidecar.core.config.HostPort;
import io.micro.sidecar.core.config.LifecycleConfig;
import io.micro.sidecar.core.config.SidecarConfig;
import java.time.Duration;

/** Configurations for sidecars started inside tests. */
public final class TestSidecars {

  private TestSidecars() {}

  /** Defaults, on a free loopback port, without the shutdown delay that only real callers need. */
  public static SidecarConfig local() {
    return SidecarConfig.of(new HostPort("127.0.0.1", 0))
        .withLifecycle(new LifecycleConfig(Duration.ofSeconds(15), Duration.ZERO, Duration.ofSeconds(10)));
  }
}
