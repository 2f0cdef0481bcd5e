package io.micro.sidecar.server.stats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.GcInfo;
import io.micro.sidecar.core.broker.BrokerStats;
import io.micro.sidecar.core.metrics.CallOutcome;
import io.micro.sidecar.core.metrics.PoolStats;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON of {@code /stats}: the original's fields first ({@code started}, {@code memory},
 * {@code threads}, {@code gc_pause}, {@code counters}), then what the dashboard shows besides. See
 * docs/api.md for every field.
 */
final class StatsCodec {

  /** Topics listed one by one; the totals always cover every topic. */
  static final int MAX_TOPICS = 100;
  private static final ObjectMapper JSON = new ObjectMapper();

  private StatsCodec() {}

  static byte[] encode(Telemetry t) {
    ObjectNode root = JSON.createObjectNode();
    long now = t.clock().millis();
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    Gc gc = gc();
    root.put("started", t.started());
    root.put("memory", String.format(Locale.ROOT, "%.2fmb", heap.getUsed() / 1024.0 / 1024.0));
    root.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
    root.put("gc_pause", String.format(Locale.ROOT, "%.3fms", (double) gc.lastPauseMillis));
    ArrayNode counters = root.putArray("counters");
    for (StatusWindow.Counter c : t.window().snapshot(t.started())) {
      ObjectNode o = counters.addObject();
      o.put("timestamp", c.timestamp());
      ObjectNode codes = o.putObject("status_codes");
      long[] by = c.byClass();
      for (int cls = 1; cls < by.length; cls++) {
        if (by[cls] > 0) {
          codes.put(StatusWindow.key(cls), by[cls]);
        }
      }
      if (by[0] > 0) {
        codes.put(StatusWindow.key(0), by[0]);
      }
      o.put("total_reqs", c.total());
    }

    root.put("now", now / 1000);
    root.put("uptime_seconds", now / 1000 - t.started());
    ObjectNode h = root.putObject("heap");
    h.put("used_bytes", heap.getUsed());
    h.put("committed_bytes", heap.getCommitted());
    h.put("max_bytes", heap.getMax());
    ObjectNode d = root.putObject("direct");
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) {
        d.put("used_bytes", pool.getMemoryUsed());
        d.put("capacity_bytes", pool.getTotalCapacity());
        d.put("buffers", pool.getCount());
      }
    }
    d.put("netty_reserved_bytes", PlatformDependent.usedDirectMemory());
    d.put("netty_max_bytes", PlatformDependent.maxDirectMemory());
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
      d.put("netty_allocator_bytes", p.metric().usedDirectMemory());
    }
    ObjectNode g = root.putObject("gc");
    g.put("collections", gc.collections);
    g.put("pause_total_ms", gc.totalMillis);
    g.put("last_pause_ms", gc.lastPauseMillis);

    double[] lat = t.requests().latencyMillis();
    ObjectNode l = root.putObject("latency_ms");
    l.put("p50", round(lat[0]));
    l.put("p90", round(lat[1]));
    l.put("p99", round(lat[2]));
    l.put("max", round(lat[3]));
    l.put("count", (long) lat[4]);

    ArrayNode services = root.putArray("services");
    for (Map.Entry<String, Map<String, Long>> e : t.serviceCalls().snapshot().entrySet()) {
      ObjectNode s = services.addObject();
      s.put("service", e.getKey());
      long calls = 0;
      long errors = 0;
      ObjectNode outcomes = JSON.createObjectNode();
      for (Map.Entry<String, Long> o : e.getValue().entrySet()) {
        calls += o.getValue();
        if (!o.getKey().equals(CallOutcome.OK.label())) {
          errors += o.getValue();
        }
        outcomes.put(o.getKey(), o.getValue());
      }
      s.put("calls", calls);
      s.put("errors", errors);
      s.set("outcomes", outcomes);
    }

    Telemetry.Watched w = t.watched();
    BrokerStats all = w.broker().stats();
    ObjectNode b = root.putObject("broker");
    b.put("topics", all.topics());
    b.put("subscribers", all.subscribers());
    b.put("buffered", all.buffered());
    b.put("dropped", all.dropped());
    b.put("cut", all.cut());
    b.put("published", w.broker().published());
    b.put("delivered", w.broker().delivered());
    w.broker().peers().ifPresent(p -> b.putObject("peers").put("delivered", p.delivered()).put("failed", p.failed())
        .put("shed", p.shed()).put("in_flight", p.inFlight()));
    ArrayNode topics = b.putArray("by_topic");
    int listed = 0;
    for (Map.Entry<String, BrokerStats> e : w.broker().topics().entrySet()) {
      if (listed++ == MAX_TOPICS) {
        break;
      }
      topics.addObject().put("topic", e.getKey()).put("subscribers", e.getValue().subscribers())
          .put("buffered", e.getValue().buffered()).put("dropped", e.getValue().dropped())
          .put("cut", e.getValue().cut());
    }
    root.putObject("registry").put("cache_age_seconds", w.registry().cacheAge().toMillis() / 1000.0);
    PoolStats pool = w.connections().pool();
    root.putObject("app_pool").put("nodes", pool.pools()).put("active", pool.active())
        .put("idle", pool.idle()).put("pending", pool.pending());
    root.putObject("selector").put("in_flight", w.selector().inFlight()).put("ejections", w.selector().ejections());
    try {
      return JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static double round(double millis) {
    return Math.round(millis * 1000) / 1000.0;
  }

  private static Gc gc() {
    Gc gc = new Gc();
    long lastEnd = -1;
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      gc.collections += Math.max(0, bean.getCollectionCount());
      gc.totalMillis += Math.max(0, bean.getCollectionTime());
      if (bean instanceof com.sun.management.GarbageCollectorMXBean sun) { // fully qualified: name clash
        GcInfo info = sun.getLastGcInfo();
        if (info != null && info.getEndTime() > lastEnd) {
          lastEnd = info.getEndTime();
          gc.lastPauseMillis = info.getDuration();
        }
      }
    }
    return gc;
  }

  private static final class Gc {
    long collections;
    long totalMillis;
    long lastPauseMillis;
  }
}
