package io.micro.sidecar.core.registry;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a registry knows, as both registries hold it: entries of one node each (as go-micro stores them
 * in etcd), each under a key of its own (the etcd key; for the memory registry the name, version and
 * node id), and per service the answer a lookup returns, rebuilt from that service's entries alone
 * when they change. A lookup reads one immutable list; a change costs what the changed service holds,
 * not what the registry holds.
 *
 * <p>An answer has one {@link Service} per version, sorted by version, with that version's nodes
 * sorted by id; a version's metadata and endpoints are those of its entry put last. With it the index
 * publishes the service's {@link NodeSet}, the nodes a call chooses among.
 *
 * <p>Threading: {@link #put}, {@link #remove} and {@link #publish} from one thread at a time (the
 * registry's lock or loop); {@link #find} and {@link #list} from any thread, and they see a change
 * once it is published. Nothing here blocks.
 */
public final class ServiceIndex {

  private static final Comparator<Node> BY_ID = Comparator.comparing(Node::id);

  /** What {@link #put} did. */
  public enum Change {
    /** The key is new. */
    CREATED,
    /** The key held something else. */
    UPDATED,
    /** The key held this already. */
    NONE
  }

  /** Every entry by key; writer only. */
  private final Map<String, Service> byKey = new HashMap<>();
  /** Service name → its entries by key, most recently put last; writer only. */
  private final Map<String, LinkedHashMap<String, Service>> byName = new HashMap<>();
  /** Names changed since the last {@link #publish}; writer only. */
  private final Set<String> changed = new HashSet<>();
  /** The published answers and their node sets, read from any thread. */
  private final Cache<String, Published> answers = Caffeine.newBuilder().build();

  /**
   * Puts {@code entry}, a service with its nodes (one, as both registries store them), under {@code key},
   * replacing what the key held (under whatever name). Seen by lookups once {@link #publish published}.
   */
  public Change put(String key, Service entry) {
    if (entry.nodes() == null || entry.nodes().isEmpty()) {
      throw new IllegalArgumentException("entry: no nodes (expected: at least one)");
    }
    Service before = byKey.put(key, entry);
    if (entry.equals(before)) {
      return Change.NONE;
    }
    if (before != null) {
      drop(key, before);
    }
    byName.computeIfAbsent(entry.name(), n -> new LinkedHashMap<>()).put(key, entry);
    changed.add(entry.name());
    return before == null ? Change.CREATED : Change.UPDATED;
  }

  /** Removes what {@code key} holds; returns it, or null when it held nothing. */
  public Service remove(String key) {
    Service before = byKey.remove(key);
    if (before != null) {
      drop(key, before);
    }
    return before;
  }

  private void drop(String key, Service entry) {
    LinkedHashMap<String, Service> entries = byName.get(entry.name());
    entries.remove(key);
    if (entries.isEmpty()) {
      byName.remove(entry.name());
    }
    changed.add(entry.name());
  }

  /** What {@code key} holds; null when nothing. Writer only. */
  public Service get(String key) {
    return byKey.get(key);
  }

  /** The keys held, unmodifiable. Writer only. */
  public Set<String> keys() {
    return Collections.unmodifiableSet(byKey.keySet());
  }

  /** Entries held. Writer only. */
  public int size() {
    return byKey.size();
  }

  /**
   * Rebuilds the answer of each service changed since the last call, from its own entries, and makes
   * them what lookups see.
   *
   * @return the names rebuilt
   */
  public Set<String> publish() {
    if (changed.isEmpty()) {
      return Set.of();
    }
    Set<String> names = Set.copyOf(changed);
    changed.clear();
    for (String name : names) {
      LinkedHashMap<String, Service> entries = byName.get(name);
      if (entries == null) {
        answers.invalidate(name);
      } else {
        List<Service> answer = answer(entries.values());
        answers.put(name, new Published(answer, NodeSet.of(answer)));
      }
    }
    return names;
  }

  private static List<Service> answer(Iterable<Service> entries) {
    // version → the entry put last (whose metadata the version shows) and its nodes
    Map<String, Service> latest = new TreeMap<>();
    Map<String, List<Node>> nodes = new HashMap<>();
    for (Service e : entries) {
      latest.put(e.version(), e);
      nodes.computeIfAbsent(e.version(), v -> new ArrayList<>()).addAll(e.nodes());
    }
    List<Service> answer = new ArrayList<>(latest.size());
    latest.forEach((version, e) -> {
      List<Node> ns = nodes.get(version);
      ns.sort(BY_ID);
      answer.add(e.withNodes(List.copyOf(ns)));
    });
    return List.copyOf(answer);
  }

  /** The published answer for {@code name}: one Service per version; empty when unknown. */
  public List<Service> find(String name) {
    Published found = answers.getIfPresent(name);
    return found == null ? List.of() : found.answer;
  }

  /** The published nodes of {@code name}, every version's, made when they changed; empty when unknown. */
  public NodeSet nodes(String name) {
    Published found = answers.getIfPresent(name);
    return found == null ? NodeSet.EMPTY : found.nodes;
  }

  /** Every published service, one entry per version, sorted by name then version. */
  public List<Service> list() {
    List<Service> all = new ArrayList<>();
    new TreeMap<>(answers.asMap()).values().forEach(p -> all.addAll(p.answer));
    return all;
  }

  private record Published(List<Service> answer, NodeSet nodes) {
  }
}
