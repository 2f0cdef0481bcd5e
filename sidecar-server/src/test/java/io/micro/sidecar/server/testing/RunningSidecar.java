package io.micro.sidecar.server.testing;

import io.micro.sidecar.core.broker.Broker;
import io.micro.sidecar.core.config.SidecarConfig;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.server.Sidecar;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A sidecar for a test class, started on a free loopback port with the options the class gives (over
 * {@link TestSidecars#local()}) before its first test and stopped after its last:
 * <pre>
 * &#64;RegisterExtension
 * static final RunningSidecar sidecar = RunningSidecar.local();
 * </pre>
 * Register it on a static field. Its options are read when it starts, before the class's own
 * {@code @BeforeAll} methods run.
 */
public final class RunningSidecar implements BeforeAllCallback, AfterAllCallback {

  private final UnaryOperator<SidecarConfig> options;
  private Sidecar sidecar;

  private RunningSidecar(UnaryOperator<SidecarConfig> options) {
    this.options = options;
  }

  /** Defaults, as {@link TestSidecars#local()}. */
  public static RunningSidecar local() {
    return with(UnaryOperator.identity());
  }

  /** {@link TestSidecars#local()} changed by {@code options}. */
  public static RunningSidecar with(UnaryOperator<SidecarConfig> options) {
    return new RunningSidecar(options);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    sidecar = Sidecar.start(options.apply(TestSidecars.local()));
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (sidecar != null) {
      sidecar.close();
      sidecar = null;
    }
  }

  /** The running sidecar. */
  public Sidecar get() {
    if (sidecar == null) {
      throw new IllegalStateException("the sidecar runs only while the test class does");
    }
    return sidecar;
  }

  public int port() {
    return get().port();
  }

  /** {@code http://127.0.0.1:<port>} followed by {@code pathAndQuery}. */
  public String url(String pathAndQuery) {
    return "http://127.0.0.1:" + port() + pathAndQuery;
  }

  public Registry registry() {
    return get().registry();
  }

  public Broker broker() {
    return get().broker();
  }
}
