package io.micro.sidecar.core.config;

import java.util.List;
import java.util.Locale;

/**
 * Which registry to use ({@code --registry}, default memory), where it lives ({@code --registry_address})
 * and, with etcd, the prefix registrations are written under ({@code --registry_prefix}, default
 * {@code /micro-registry/}; {@code /micro/registry/} writes go-micro 1.11's node form). Both are read.
 */
public record RegistryConfig(Kind kind, List<String> addresses, String prefix) {

  /** Where etcd registrations are written by default: the sidecar era's layout (contract §11). */
  public static final String DEFAULT_PREFIX = "/micro-registry/";

  /** With the default prefix. */
  public RegistryConfig(Kind kind, List<String> addresses) {
    this(kind, addresses, DEFAULT_PREFIX);
  }

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
      throw new InvalidSettingException("registry", "'" + text + "' (expected: memory, etcd or etcdv3; the original's other registries are not supported here)");
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public RegistryConfig {
    addresses = List.copyOf(addresses);
    if (!prefix.equals("/micro-registry/") && !prefix.equals("/micro/registry/")) {
      throw new InvalidSettingException("registry_prefix", "'" + prefix + "' (expected: /micro-registry/ or /micro/registry/)");
    }
  }

  public static RegistryConfig memory() {
    return new RegistryConfig(Kind.MEMORY, List.of());
  }
}
