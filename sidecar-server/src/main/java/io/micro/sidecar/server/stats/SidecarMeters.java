package io.micro.sidecar.server.stats;

import io.micro.sidecar.server.http.BufferBudget;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;

/**
 * The gauges and function counters read at scrape time: JVM (memory, GC, threads, classes, CPU,
 * uptime), Netty's buffer memory, the buffering budget, the registry cache, the broker, the pool of
 * connections to apps and the selector. None carries a per-node or per-topic label.
 */
final class SidecarMeters implements AutoCloseable {

  private final MeterRegistry registry;
  private final JvmGcMetrics gc = new JvmGcMetrics();

  SidecarMeters(MeterRegistry registry, Telemetry.Watched watched) {
    this.registry = registry;
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
      ByteBufAllocatorMetric m = p.metric();
      Gauge.builder("netty.allocator.memory.used", m, ByteBufAllocatorMetric::usedDirectMemory).baseUnit("bytes")
          .tag("type", "direct").description("Memory held by Netty's default buffer allocator").register(registry);
      Gauge.builder("netty.allocator.memory.used", m, ByteBufAllocatorMetric::usedHeapMemory).baseUnit("bytes")
          .tag("type", "heap").description("Memory held by Netty's default buffer allocator").register(registry);
    }
    Gauge.builder("netty.direct.memory.used", PlatformDependent::usedDirectMemory).baseUnit("bytes")
        .description("Direct memory Netty has reserved (-1 when Netty does not count it)").register(registry);
    Gauge.builder("netty.direct.memory.max", PlatformDependent::maxDirectMemory).baseUnit("bytes")
        .description("The most direct memory Netty may reserve").register(registry);
    budget(watched.budget());
    watch(watched);
  }

  private void budget(BufferBudget budget) {
    Gauge.builder("sidecar.buffered", budget, b -> b.used()).baseUnit("bytes")
        .description("Request bodies being read and answers not yet taken by clients (--max_buffered_bytes bounds it)")
        .register(registry);
    FunctionCounter.builder("sidecar.buffered.refused", budget, b -> b.refused())
        .description("Requests answered 503 because --max_buffered_bytes was spent").register(registry);
  }

  private void watch(Telemetry.Watched w) {
    Gauge.builder("sidecar.registry.cache.age", w.registry(), r -> r.cacheAge().toMillis() / 1000.0)
        .baseUnit("seconds").description("How stale the registry cache may be (0 for the memory registry)")
        .register(registry);
    for (String state : new String[] {"active", "idle", "pending"}) {
      Gauge.builder("sidecar.app.pool.connections", w.connections(), c -> switch (state) {
            case "active" -> c.pool().active();
            case "idle" -> c.pool().idle();
            default -> c.pool().pending();
          })
          .tag("state", state)
          .description("Connections to apps lent out (active) or waiting (idle), and calls waiting for one (pending)")
          .register(registry);
    }
    Gauge.builder("sidecar.app.pool.nodes", w.connections(), c -> c.pool().pools())
        .description("App nodes with a pool of connections").register(registry);
    Gauge.builder("sidecar.app.inflight", w.selector(), s -> s.inFlight())
        .description("Calls to apps in flight, over every node").register(registry);
    FunctionCounter.builder("sidecar.app.ejections", w.selector(), s -> s.ejections())
        .description("App nodes ejected after consecutive failures").register(registry);
    FunctionCounter.builder("sidecar.broker.messages.published", w.broker(), b -> b.published())
        .description("Messages published to the broker").register(registry);
    FunctionCounter.builder("sidecar.broker.messages.delivered", w.broker(), b -> b.delivered())
        .description("Messages handed to subscribers").register(registry);
    FunctionCounter.builder("sidecar.broker.messages.dropped", w.broker(), b -> b.stats().dropped())
        .description("Messages subscribers lost to a full buffer").register(registry);
    FunctionCounter.builder("sidecar.broker.subscribers.cut", w.broker(), b -> b.stats().cut())
        .description("Subscribers cut off (WebSocket 1013) for falling behind").register(registry);
    Gauge.builder("sidecar.broker.topics", w.broker(), b -> b.stats().topics())
        .description("Topics with subscribers").register(registry);
    Gauge.builder("sidecar.broker.subscribers", w.broker(), b -> b.stats().subscribers())
        .description("Broker subscribers").register(registry);
    Gauge.builder("sidecar.broker.buffered", w.broker(), b -> b.stats().buffered())
        .description("Messages waiting in subscribers' buffers").register(registry);
    if (w.broker().peers().isPresent()) {
      for (String outcome : new String[] {"delivered", "failed", "shed"}) {
        FunctionCounter.builder("sidecar.broker.peer.deliveries", w.broker(), b -> b.peers().map(p -> switch (outcome) {
              case "delivered" -> p.delivered();
              case "failed" -> p.failed();
              default -> p.shed();
            }).orElse(0L))
            .tag("outcome", outcome)
            .description("Messages posted to other sidecars (--broker=http): delivered, failed, or shed for want of room")
            .register(registry);
      }
    }
  }

  @Override
  public void close() {
    gc.close();
  }
}
