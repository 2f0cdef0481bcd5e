package io.micro.sidecar.core.registry;

/** The memory registry holds to the {@link RegistryContract}. */
class MemoryRegistryContractTest extends RegistryContract {

  @Override
  protected Registry open() {
    return Registry.memory();
  }
}
