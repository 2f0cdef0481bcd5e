package io.micro.sidecar.core.registry;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;

/** A method a service offers, with its request and response shapes (contract §2). */
@JsonPropertyOrder({"name", "request", "response", "metadata"})
public record Endpoint(
    @JsonProperty("name") String name,
    @JsonProperty("request") Value request,
    @JsonProperty("response") Value response,
    @JsonProperty("metadata") Map<String, String> metadata) {}
