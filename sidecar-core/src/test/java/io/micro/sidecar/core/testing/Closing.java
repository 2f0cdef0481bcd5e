package io.micro.sidecar.core.testing;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a test started, closed after it in reverse order: {@code @RegisterExtension final Closing
 * closing = new Closing();} then {@code closing.own(EtcdCluster.start(1))}.
 */
public final class Closing implements AfterEachCallback {

  private final List<AutoCloseable> resources = new ArrayList<>();

  /** Closes {@code resource} after the test, before whatever was owned earlier; returns it. */
  public <T extends AutoCloseable> T own(T resource) {
    resources.add(resource);
    return resource;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Exception first = null;
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    resources.clear();
    if (first != null) {
      throw first;
    }
  }
}
