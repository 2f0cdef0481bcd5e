package io.micro.sidecar.core.registry;

import java.util.Locale;

/**
 * A change seen by a registry watch: the nodes of {@code service} were created, updated or deleted.
 * The service holds only the nodes the change is about.
 */
public record RegistryEvent(Action action, Service service) {

  public enum Action {
    CREATE,
    UPDATE,
    DELETE;

    /** The lowercase word go-micro writes on the wire. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
