package io.micro.sidecar.core.registry;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
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
}
