package io.micro.sidecar.core.client;

import io.micro.sidecar.core.config.ClientConfig;
import io.micro.sidecar.core.metrics.CallObserver;
import io.micro.sidecar.core.metrics.PoolStats;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.AsciiString;
import java.io.File;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLException;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionPoolMetrics;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * The sidecar's one pool of keep-alive connections to apps, built at start and shared by every call
 * (RPC and proxy): bounded per node, idle connections closed before common app keep-alive timeouts.
 * Owns its {@link ConnectionProvider} and releases it in {@link #close()}; the event loops belong to
 * the caller.
 */
public final class AppConnections implements AutoCloseable {

  /** A connection not made in this long is treated as refused, and the call may go to another node. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

  /** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones each hop sets for itself. */
  private static final Set<AsciiString> NOT_FORWARDED = Set.of(
      HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_AUTHENTICATE,
      HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
      HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.HOST,
      HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.ACCEPT,
      HttpHeaderNames.EXPECT, AsciiString.cached("timeout"), AsciiString.cached("proxy-connection"));

  /** The event loops the server runs on (reactor-netty's default worker count): the per-loop pool size divides by it. */
  private static final int LOOPS = LoopResources.DEFAULT_IO_WORKER_COUNT;

  private final ClientConfig config;
  private final Optional<Path> trust;
  private final ConnectionProvider.MeterRegistrar registrar;
  private final int connectMillis;
  private final ConnectionProvider provider;
  private final LoopClient calls;
  private final Map<EventLoop, HttpClient> perLoop = new ConcurrentHashMap<>();
  private final List<ConnectionProvider> loopProviders = new CopyOnWriteArrayList<>();
  private final LoopResources loops;
  /** Made on first use ({@link #http()}): its DNS resolver costs a start about 50 ms of CPU. */
  private volatile HttpClient http;
  private final String scheme;
  private final CallObserver observer;
  /** Every node's pool, as reactor-netty registers and deregisters them; read only for {@link #pool()}. */
  private final Map<String, ConnectionPoolMetrics> pools = new ConcurrentHashMap<>();

  public AppConnections(ClientConfig config, LoopResources loops) {
    this(config, loops, CallObserver.NOOP, Optional.empty());
  }

  /**
   * @param observer hears how every call made over these connections ended
   * @param trust    when present, apps are called over HTTPS and their certificates verified against
   *                 this CA (PEM)
   */
  public AppConnections(ClientConfig config, LoopResources loops, CallObserver observer,
                        Optional<Path> trust) {
    this.observer = observer;
    this.config = config;
    this.trust = trust;
    this.registrar = new ConnectionProvider.MeterRegistrar() {
      @Override
      public void registerMetrics(String poolName, String id, SocketAddress remote, ConnectionPoolMetrics metrics) {
        pools.put(id + remote, metrics);
      }

      @Override
      public void deRegisterMetrics(String poolName, String id, SocketAddress remote) {
        pools.remove(id + remote);
      }
    };
    this.connectMillis = (int) Math.min(CONNECT_TIMEOUT.toMillis(), config.requestTimeout().toMillis());
    this.provider = provider("apps", config.poolSize());
    this.loops = loops;
    this.scheme = trust.isPresent() ? "https" : "http";
    int perLoop = perLoopSize();
    this.calls = new LoopClient(perLoop, perLoop * 8, config.idleTimeout(), config.poolTtl(),
        Duration.ofMillis(connectMillis), trust.map(AppConnections::clientSsl));
  }

  private int perLoopSize() {
    return Math.max(1, (config.poolSize() + LOOPS - 1) / LOOPS);
  }

  private ConnectionProvider provider(String name, int size) {
    ConnectionProvider.Builder pool = ConnectionProvider.builder(name);
    if (!config.poolTtl().isZero()) {
      pool = pool.maxLifeTime(config.poolTtl());
    }
    return pool
        // our own registrar: reactor-netty's would register in Micrometer's global registry, per node
        .metrics(true, () -> registrar)
        .maxConnections(size)
        .pendingAcquireMaxCount(size * 8)
        .pendingAcquireTimeout(config.requestTimeout())
        .maxIdleTime(config.idleTimeout())
        .evictInBackground(config.idleTimeout())
        .build();
  }

  private HttpClient configure(HttpClient client) {
    HttpClient c = client
        .keepAlive(true)
        .followRedirect(false)
        // the request head and body are written separately: Nagle must not hold the body back
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis);
    if (trust.isEmpty()) {
      return c;
    }
    File ca = trust.get().toFile();
    return c.secure(spec -> spec.sslContext(
        Http11SslContextSpec.forClient().configure(b -> b.trustManager(ca))));
  }

  /**
   * The client whose connections live on {@code loop} (the loop of the request that calls): a call
   * through it is forwarded and answered without leaving that loop. One pool per loop, each bounded
   * by its share of {@code --client_pool_size}; made on first use.
   */
  public HttpClient http(EventLoop loop) {
    HttpClient client = perLoop.get(loop);
    if (client != null) {
      return client;
    }
    return perLoop.computeIfAbsent(loop, l -> {
      ConnectionProvider p = provider("apps-loop-" + loopProviders.size(), perLoopSize());
      loopProviders.add(p);
      return configure(HttpClient.create(p).runOn(l));
    });
  }

  /** Calls that stay on their event loop: RPC to apps ({@link RpcClient}). */
  public LoopClient calls() {
    return calls;
  }

  private static SslContext clientSsl(Path ca) {
    try {
      return SslContextBuilder.forClient().trustManager(ca.toFile()).build();
    } catch (SSLException e) {
      throw new IllegalArgumentException("client TLS CA " + ca + ": " + e.getMessage(), e);
    }
  }

  /** The client on the shared pool, for calls that may run on any loop (health checks, broker peers, WebSockets). */
  public HttpClient http() {
    HttpClient client = http;
    if (client == null) {
      synchronized (this) {
        client = http;
        if (client == null) {
          client = configure(HttpClient.create(provider).runOn(loops));
          http = client;
        }
      }
    }
    return client;
  }

  /** Hears the outcome of every call to an app; {@link CallObserver#NOOP} unless one was given. */
  public CallObserver observer() {
    return observer;
  }

  /** The pool summed over every node: a snapshot, cheap enough for a metrics scrape. */
  public PoolStats pool() {
    int n = 0;
    int active = 0;
    int idle = 0;
    int pending = 0;
    for (ConnectionPoolMetrics m : pools.values()) {
      n++;
      active += m.acquiredSize();
      idle += m.idleSize();
      pending += m.pendingAcquireSize();
    }
    PoolStats loops = calls.stats();
    return new PoolStats(n + loops.pools(), active + loops.active(), idle + loops.idle(), pending + loops.pending());
  }

  /** {@code http://host:port/path} (or https with a trusted CA), with brackets around an IPv6 literal. */
  public String uri(String host, int port, String pathAndQuery) {
    String h = host.isEmpty() ? "127.0.0.1" : host;
    if (h.indexOf(':') >= 0 && !h.startsWith("[")) {
      h = "[" + h + "]";
    }
    return scheme + "://" + h + ":" + port + pathAndQuery;
  }

  /** Hop-by-hop headers only (RFC 9110 §7.6.1), for the plain proxy that keeps everything else. */
  private static final Set<AsciiString> HOP_BY_HOP = Set.of(
      HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_AUTHENTICATE,
      HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
      HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, AsciiString.cached("proxy-connection"));

  /**
   * Copies every header but the hop-by-hop ones (and those named in {@code Connection}), as a reverse
   * proxy must; {@code Host} and {@code Content-Length} are left to the outgoing request.
   */
  public static void forwardAll(HttpHeaders from, HttpHeaders to) {
    forwardAll(from, to, true);
  }

  /**
   * As {@link #forwardAll(HttpHeaders, HttpHeaders)}; with {@code replace} false, headers already in
   * {@code to} are kept beside the forwarded ones (for a {@code to} known to hold none of them).
   */
  public static void forwardAll(HttpHeaders from, HttpHeaders to, boolean replace) {
    Set<String> named = null;
    for (String c : from.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : c.split(",")) {
        if (named == null) {
          named = new HashSet<>();
        }
        named.add(token.trim().toLowerCase(Locale.ROOT));
      }
    }
    if (replace && !to.isEmpty()) {
      // the caller's values replace the client's own (User-Agent, Accept): each header reaches the app once
      for (String n : from.names()) {
        if (forwardable(n, named)) {
          to.remove(n);
        }
      }
    }
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      if (forwardable(e.getKey(), named)) {
        to.add(e.getKey(), e.getValue());
      }
    }
  }

  private static final AsciiString[] HOP_BY_HOP_NAMES = HOP_BY_HOP.toArray(new AsciiString[0]);

  private static boolean forwardable(CharSequence name, Set<String> named) {
    for (AsciiString hop : HOP_BY_HOP_NAMES) {
      if (hop.contentEqualsIgnoreCase(name)) {
        return false;
      }
    }
    return !HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)
        && !HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)
        && (named == null || !named.contains(name.toString().toLowerCase(Locale.ROOT)));
  }

  /** {@link #NOT_FORWARDED} as an array: a per-request check compares without lower-casing a copy of each name. */
  private static final AsciiString[] NOT_FORWARDED_NAMES = NOT_FORWARDED.toArray(new AsciiString[0]);

  /** Copies the caller's headers a call to an app carries on: all but hop-by-hop and per-hop ones. */
  public static void forward(HttpHeaders from, HttpHeaders to) {
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      if (forwarded(e.getKey())) {
        to.add(e.getKey(), e.getValue());
      }
    }
  }

  private static boolean forwarded(CharSequence name) {
    for (AsciiString not : NOT_FORWARDED_NAMES) {
      if (not.contentEqualsIgnoreCase(name)) {
        return false;
      }
    }
    return true;
  }

  /** Per-node in-flight and pool figures are the selector's and the provider's; this just closes. */
  @Override
  public void close() {
    calls.close();
    loopProviders.forEach(p -> p.disposeLater().subscribe());
    provider.disposeLater().block(Duration.ofSeconds(5));
  }
}
