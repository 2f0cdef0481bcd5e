package io.micro.sidecar.core.config;

import io.micro.sidecar.core.broker.BrokerConfig;
import java.util.Optional;

/**
 * Everything the sidecar was started with, built once from flags and environment and passed down.
 *
 * @param listen       where the HTTP server listens ({@code --address}, default {@code :8081})
 * @param app          the app to register at start, if {@code --server_name} and
 *                     {@code --server_address} were given
 * @param registry     the registry ({@code --registry}, default memory)
 * @param maxBodyBytes the largest request body read into memory (default 4 MiB); larger gets 413
 * @param handler      what the catch-all route does ({@code --handler}, default rpc)
 * @param namespace    prefix of service names for the catch-all ({@code --namespace}, default
 *                     {@code go.micro.srv})
 * @param client       how apps are called
 * @param health       how the app's health is checked
 * @param lifecycle    registration TTL and shutdown timing
 * @param broker       the in-process broker's buffers ({@code --broker_buffer}, {@code --broker_overflow})
 * @param security     TLS, CORS and the API token
 * @param limits       header, URL, timeout and connection limits
 * @param observability {@code /stats}, {@code /metrics}, the access log and trace context
 * @param ioBackend    the kernel interface of the event loops ({@code --io_backend}, default auto)
 */
public record SidecarConfig(HostPort listen, Optional<AppConfig> app, RegistryConfig registry, int maxBodyBytes,
                            Handler handler, String namespace, ClientConfig client, HealthConfig health,
                            LifecycleConfig lifecycle, BrokerConfig broker, SecurityConfig security,
                            LimitsConfig limits, ObservabilityConfig observability, IoBackend ioBackend) {

  public static final HostPort DEFAULT_LISTEN = new HostPort("", 8081);
  public static final int DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
  public static final String DEFAULT_NAMESPACE = "go.micro.srv";

  /** The catch-all route: JSON-RPC calls mapped from the path, or a plain reverse proxy. */
  public enum Handler {
    RPC,
    PROXY
  }

  /**
   * The kernel interface the event loops use. {@link #AUTO} is epoll, or NIO where there is no epoll;
   * any other is that one or a failed start.
   */
  public enum IoBackend {
    AUTO,
    IO_URING,
    EPOLL,
    NIO
  }

  /** Defaults everywhere, listening on {@code listen}: what tests and embedders start from. */
  public static SidecarConfig of(HostPort listen) {
    return builder(listen).build();
  }

  /** A builder with every default (those of each part's record), listening on {@code listen}. */
  public static Builder builder(HostPort listen) {
    return new Builder(listen);
  }

  /** A builder holding this configuration, to change some of it. */
  public Builder toBuilder() {
    return new Builder(listen).app(app).registry(registry).maxBodyBytes(maxBodyBytes).handler(handler)
        .namespace(namespace).client(client).health(health).lifecycle(lifecycle).broker(broker).security(security)
        .limits(limits).observability(observability).ioBackend(ioBackend);
  }

  public SidecarConfig withApp(AppConfig app) {
    return toBuilder().app(Optional.of(app)).build();
  }

  public SidecarConfig withRegistry(RegistryConfig registry) {
    return toBuilder().registry(registry).build();
  }

  public SidecarConfig withHandler(Handler handler) {
    return toBuilder().handler(handler).build();
  }

  public SidecarConfig withHealth(HealthConfig health) {
    return toBuilder().health(health).build();
  }

  public SidecarConfig withLifecycle(LifecycleConfig lifecycle) {
    return toBuilder().lifecycle(lifecycle).build();
  }

  public SidecarConfig withSecurity(SecurityConfig security) {
    return toBuilder().security(security).build();
  }

  public SidecarConfig withLimits(LimitsConfig limits) {
    return toBuilder().limits(limits).build();
  }

  public SidecarConfig withMaxBodyBytes(int maxBodyBytes) {
    return toBuilder().maxBodyBytes(maxBodyBytes).build();
  }

  public SidecarConfig withBroker(BrokerConfig broker) {
    return toBuilder().broker(broker).build();
  }

  public SidecarConfig withClient(ClientConfig client) {
    return toBuilder().client(client).build();
  }

  public SidecarConfig withObservability(ObservabilityConfig observability) {
    return toBuilder().observability(observability).build();
  }

  public SidecarConfig withIoBackend(IoBackend ioBackend) {
    return toBuilder().ioBackend(ioBackend).build();
  }

  /**
   * Builds a {@link SidecarConfig}: each part starts at its record's default, so a default lives once,
   * in that record. Not thread-safe; one per configuration.
   */
  public static final class Builder {
    private final HostPort listen;
    private Optional<AppConfig> app = Optional.empty();
    private RegistryConfig registry = RegistryConfig.memory();
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private Handler handler = Handler.RPC;
    private String namespace = DEFAULT_NAMESPACE;
    private ClientConfig client = ClientConfig.DEFAULT;
    private HealthConfig health = HealthConfig.DEFAULT;
    private LifecycleConfig lifecycle = LifecycleConfig.DEFAULT;
    private BrokerConfig broker = BrokerConfig.DEFAULT;
    private SecurityConfig security = SecurityConfig.DEFAULT;
    private LimitsConfig limits = LimitsConfig.DEFAULT;
    private ObservabilityConfig observability = ObservabilityConfig.DEFAULT;
    private IoBackend ioBackend = IoBackend.AUTO;

    private Builder(HostPort listen) {
      this.listen = listen;
    }

    public Builder app(Optional<AppConfig> app) {
      this.app = app;
      return this;
    }

    public Builder registry(RegistryConfig registry) {
      this.registry = registry;
      return this;
    }

    public Builder maxBodyBytes(int maxBodyBytes) {
      this.maxBodyBytes = maxBodyBytes;
      return this;
    }

    public Builder handler(Handler handler) {
      this.handler = handler;
      return this;
    }

    public Builder namespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    public Builder client(ClientConfig client) {
      this.client = client;
      return this;
    }

    public Builder health(HealthConfig health) {
      this.health = health;
      return this;
    }

    public Builder lifecycle(LifecycleConfig lifecycle) {
      this.lifecycle = lifecycle;
      return this;
    }

    public Builder broker(BrokerConfig broker) {
      this.broker = broker;
      return this;
    }

    public Builder security(SecurityConfig security) {
      this.security = security;
      return this;
    }

    public Builder limits(LimitsConfig limits) {
      this.limits = limits;
      return this;
    }

    public Builder observability(ObservabilityConfig observability) {
      this.observability = observability;
      return this;
    }

    public Builder ioBackend(IoBackend ioBackend) {
      this.ioBackend = ioBackend;
      return this;
    }

    public SidecarConfig build() {
      return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle,
          broker, security, limits, observability, ioBackend);
    }
  }
}
