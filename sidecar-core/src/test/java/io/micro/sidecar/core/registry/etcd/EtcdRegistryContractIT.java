package io.micro.sidecar.core.registry.etcd;

import static org.awaitility.Awaitility.await;

import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.RegistryContract;
import io.micro.sidecar.core.testing.EtcdCluster;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The etcd registry holds to the {@link RegistryContract}, on one real etcd shared by the tests. */
class EtcdRegistryContractIT extends RegistryContract {

  private static EtcdCluster etcd;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(1);
  }

  @AfterAll
  static void stopEtcd() {
    etcd.close();
  }

  @Override
  protected void awaitReady(Registry registry) {
    await().atMost(Duration.ofSeconds(20)).until(((EtcdRegistry) registry)::ready);
  }

  @Override
  protected Registry open() {
    return EtcdRegistry.builder().endpoints(etcd.endpoints()).defaultTtl(Duration.ofSeconds(10)).build();
  }
}
