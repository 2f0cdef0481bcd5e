package io.micro.sidecar.core.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ServiceIndexTest {

  private final ServiceIndex index = new ServiceIndex();

  private static Service entry(String name, String version, String node, Map<String, String> metadata) {
    return new Service(name, version, metadata, null, List.of(new Node(node, "10.0.0.1", 8080, null)));
  }

  private static Service entry(String name, String version, String node) {
    return entry(name, version, node, null);
  }

  private static List<String> ids(Service s) {
    return s.nodes().stream().map(Node::id).toList();
  }

  @Test
  void anAnswerHasOneServicePerVersionSortedWithItsNodesSortedById() {
    index.put("k3", entry("a", "v2", "n3"));
    index.put("k1", entry("a", "v1", "n2"));
    index.put("k2", entry("a", "v1", "n1"));
    index.put("k4", entry("b", "", "m1"));
    assertThat(index.find("a")).as("nothing before publishing").isEmpty();

    assertThat(index.publish()).containsExactlyInAnyOrder("a", "b");
    List<Service> a = index.find("a");
    assertThat(a).extracting(Service::version).containsExactly("v1", "v2");
    assertThat(ids(a.get(0))).containsExactly("n1", "n2");
    assertThat(ids(a.get(1))).containsExactly("n3");
    assertThat(index.list()).extracting(Service::name).containsExactly("a", "a", "b");
    assertThat(index.find("nobody")).isEmpty();
  }

  @Test
  void aChangeRebuildsOnlyTheServiceItTouches() {
    index.put("k1", entry("a", "v1", "n1"));
    index.put("k2", entry("b", "v1", "m1"));
    index.publish();
    List<Service> b = index.find("b");

    index.put("k3", entry("a", "v1", "n2"));
    assertThat(index.publish()).containsExactly("a");
    assertThat(ids(index.find("a").get(0))).containsExactly("n1", "n2");
    assertThat(index.find("b")).as("not rebuilt").isSameAs(b);
    assertThat(index.publish()).as("nothing changed since").isEmpty();
  }

  @Test
  void putsSayWhatTheyChangedAndAVersionShowsTheMetadataPutLast() {
    assertThat(index.put("k1", entry("a", "v1", "n1", Map.of("zone", "x")))).isEqualTo(ServiceIndex.Change.CREATED);
    assertThat(index.put("k1", entry("a", "v1", "n1", Map.of("zone", "x")))).isEqualTo(ServiceIndex.Change.NONE);
    assertThat(index.put("k2", entry("a", "v1", "n2", Map.of("zone", "y")))).isEqualTo(ServiceIndex.Change.CREATED);
    index.publish();
    assertThat(index.find("a").get(0).metadata()).containsEntry("zone", "y");

    assertThat(index.put("k1", entry("a", "v1", "n1", Map.of("zone", "z")))).isEqualTo(ServiceIndex.Change.UPDATED);
    index.publish();
    assertThat(index.find("a").get(0).metadata()).containsEntry("zone", "z");
    assertThat(ids(index.find("a").get(0))).containsExactly("n1", "n2");
  }

  @Test
  void removingTheLastEntryOfAServiceRemovesItAndAKeyMayChangeService() {
    index.put("k1", entry("a", "v1", "n1"));
    index.put("k2", entry("a", "v2", "n2"));
    index.publish();

    assertThat(index.remove("k2")).isEqualTo(entry("a", "v2", "n2"));
    assertThat(index.remove("k2")).isNull();
    index.publish();
    assertThat(index.find("a")).extracting(Service::version).containsExactly("v1");

    // the key now holds a node of another service: it leaves the first
    assertThat(index.put("k1", entry("b", "v1", "n1"))).isEqualTo(ServiceIndex.Change.UPDATED);
    assertThat(index.publish()).isEqualTo(Set.of("a", "b"));
    assertThat(index.find("a")).isEmpty();
    assertThat(index.find("b")).hasSize(1);
    assertThat(index.keys()).containsExactly("k1");
    assertThat(index.size()).isEqualTo(1);
  }

  @Test
  void anEntryWithoutNodesIsRefused() {
    assertThatThrownBy(() -> index.put("k", new Service("a", "v", null, null, List.of())))
        .hasMessage("entry: no nodes (expected: at least one)");
  }
}
