package io.micro.sidecar.core.config;

import java.util.List;
import java.util.Locale;

/** Which registry to use ({@code --registry}, default memory) and where it lives ({@code --registry_address}). */
public record RegistryConfig(Kind kind, List<String> addresses) {

  public enum Kind {
    MEMORY,
    ETCD;

    /** @throws IllegalArgumentException naming the value and the choices */
    public static Kind of(String text) {
      for (Kind k : values()) {
        if (k.name().equalsIgnoreCase(text)) {
          return k;
        }
      }
      throw new IllegalArgumentException("'" + text + "' (expected: memory or etcd)");
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public RegistryConfig {
    addresses = List.copyOf(addresses);
  }

  public static RegistryConfig memory() {
    return new RegistryConfig(Kind.MEMORY, List.of());
  }
}
