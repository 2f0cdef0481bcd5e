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
      if (text.equalsIgnoreCase("etcdv3")) {
        // the original's name for its etcd v3 registry (go-plugins registry/etcdv3)
        return ETCD;
      }
      throw new IllegalArgumentException("'" + text + "' (expected: memory, etcd or etcdv3; the original's other registries are not supported here)");
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
