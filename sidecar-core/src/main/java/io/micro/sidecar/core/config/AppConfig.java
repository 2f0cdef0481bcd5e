package io.micro.sidecar.core.config;

/**
 * The application this sidecar stands beside and registers at start ({@code --server_name},
 * {@code --server_address}).
 */
public record AppConfig(String name, HostPort address) {}
