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
 */
public record SidecarConfig(HostPort listen, Optional<AppConfig> app, RegistryConfig registry, int maxBodyBytes,
                            Handler handler, String namespace, ClientConfig client, HealthConfig health,
                            LifecycleConfig lifecycle, BrokerConfig broker, SecurityConfig security,
                            LimitsConfig limits, ObservabilityConfig observability) {

  public static final HostPort DEFAULT_LISTEN = new HostPort("", 8081);
  public static final int DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
  public static final String DEFAULT_NAMESPACE = "go.micro.srv";

  /** The catch-all route: JSON-RPC calls mapped from the path, or a plain reverse proxy. */
  public enum Handler {
    RPC,
    PROXY
  }

  /** Defaults everywhere, listening on {@code listen}: what tests and embedders start from. */
  public static SidecarConfig of(HostPort listen) {
    return new SidecarConfig(listen, Optional.empty(), RegistryConfig.memory(), DEFAULT_MAX_BODY_BYTES,
        Handler.RPC, DEFAULT_NAMESPACE, ClientConfig.DEFAULT, HealthConfig.DEFAULT, LifecycleConfig.DEFAULT,
        BrokerConfig.DEFAULT, SecurityConfig.DEFAULT, LimitsConfig.DEFAULT, ObservabilityConfig.DEFAULT);
  }

  public SidecarConfig withApp(AppConfig app) {
    return new SidecarConfig(listen, Optional.of(app), registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withRegistry(RegistryConfig registry) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withHandler(Handler handler) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withHealth(HealthConfig health) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withLifecycle(LifecycleConfig lifecycle) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withSecurity(SecurityConfig security) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withLimits(LimitsConfig limits) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withMaxBodyBytes(int maxBodyBytes) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withBroker(BrokerConfig broker) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withClient(ClientConfig client) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }

  public SidecarConfig withObservability(ObservabilityConfig observability) {
    return new SidecarConfig(listen, app, registry, maxBodyBytes, handler, namespace, client, health, lifecycle, broker, security, limits, observability);
  }
}
