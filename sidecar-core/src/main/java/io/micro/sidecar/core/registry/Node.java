package io.micro.sidecar.core.registry;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.micro.sidecar.core.config.HostPort;
import java.util.Map;

/** One running instance of a service (contract §2). */
@JsonPropertyOrder({"id", "address", "port", "metadata"})
public record Node(
    @JsonProperty("id") String id,
    @JsonProperty("address") String address,
    @JsonProperty("port") int port,
    @JsonProperty("metadata") Map<String, String> metadata) {

  public Node {
    address = address == null ? "" : address;
  }

  /**
   * Where to call this node: {@code address} and {@code port}, or, for a node in go-micro's current
   * form (no port, {@code address} = {@code host:port}), the port inside the address.
   */
  public HostPort target() {
    boolean bareV6 = address.indexOf(':') != address.lastIndexOf(':') && !address.startsWith("[");
    if (port == 0 && address.indexOf(':') >= 0 && !bareV6) {
      try {
        return HostPort.parse(address);
      } catch (IllegalArgumentException e) {
        // not host:port after all: call it as given
      }
    }
    return new HostPort(address, port);
  }
}
