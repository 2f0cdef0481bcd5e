package io.micro.sidecar.core.registry;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/** A typed field of an endpoint's request or response, possibly nested (contract §2). */
@JsonPropertyOrder({"name", "type", "values"})
public record Value(
    @JsonProperty("name") String name,
    @JsonProperty("type") String type,
    @JsonProperty("values") List<Value> values) {}
