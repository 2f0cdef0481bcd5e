package io.micro.sidecar.core.registry;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * A service as the registry knows it (contract §2): one record per version. Absent maps and lists
 * stay {@code null} so that they are written as {@code null}, as go-micro writes them.
 */
@JsonPropertyOrder({"name", "version", "metadata", "endpoints", "nodes"})
public record Service(
    @JsonProperty("name") String name,
    @JsonProperty("version") String version,
    @JsonProperty("metadata") Map<String, String> metadata,
    @JsonProperty("endpoints") List<Endpoint> endpoints,
    @JsonProperty("nodes") List<Node> nodes) {

  public Service {
    version = version == null ? "" : version;
  }

  /** The same service description holding other nodes. */
  public Service withNodes(List<Node> nodes) {
    return new Service(name, version, metadata, endpoints, nodes);
  }
}
