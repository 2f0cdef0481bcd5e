package io.micro.sidecar.core.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micro.sidecar.core.registry.Node;
import io.micro.sidecar.core.registry.Registry;
import io.micro.sidecar.core.registry.Service;
import io.micro.sidecar.core.rpc.RpcException;
import io.micro.sidecar.core.selector.Selector;
import io.micro.sidecar.core.selector.SelectorConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The balancer's own rules, with the real registry and selector and attempts that end as each test
 * says: which failures are retried and on which node, and that every node's in-flight count comes back
 * to zero however a call ends.
 */
class BalancerTest {

  private Registry registry;
  private Selector selector;
  private Balancer balancer;
  /** Attempts started, in order: the node each went to and how to end it. */
  private final List<Pending> attempts = new ArrayList<>();

  private record Pending(Node node, Callback<String> callback, AtomicBoolean disposed) {}

  private final BiFunction<Node, Callback<String>, Disposable> attempt = (node, callback) -> {
    AtomicBoolean disposed = new AtomicBoolean();
    attempts.add(new Pending(node, callback, disposed));
    return () -> disposed.set(true);
  };

  @BeforeEach
  void setUp() {
    registry = Registry.memory();
    registry.register(new Service("svc", "1", null, null, List.of(new Node("a", "127.0.0.1", 1, null),
        new Node("b", "127.0.0.1", 2, null))), Registry.NO_TTL).block();
    selector = Selector.leastOutstanding();
    balancer = new Balancer(registry, selector, 1);
  }

  @AfterEach
  void tearDown() {
    registry.close();
  }

  private static final class Outcome implements Callback<String> {
    final AtomicReference<Object> result = new AtomicReference<>();

    @Override
    public void succeeded(String value) {
      assertThat(result.getAndSet(value == null ? "(none)" : value)).as("told once").isNull();
    }

    @Override
    public void failed(Throwable error) {
      assertThat(result.getAndSet(error)).as("told once").isNull();
    }
  }

  @Test
  void anUnknownServiceFailsWith404WithoutAnAttempt() {
    Outcome outcome = new Outcome();
    balancer.call("nope", attempt, v -> false, outcome);
    assertThat(outcome.result.get()).isInstanceOfSatisfying(RpcException.class,
        e -> assertThat(e.error().code()).isEqualTo(404));
    assertThat(attempts).isEmpty();
  }

  @Test
  void aRefusedConnectionIsRetriedOnTheOtherNodeAndEveryLeaseEnds() {
    Outcome outcome = new Outcome();
    balancer.call("svc", attempt, v -> false, outcome);
    assertThat(attempts).hasSize(1);
    Node first = attempts.get(0).node();
    assertThat(selector.inFlight(first.id())).isEqualTo(1);

    attempts.get(0).callback().failed(new ConnectException("refused"));
    assertThat(attempts).hasSize(2);
    Node second = attempts.get(1).node();
    assertThat(second.id()).isNotEqualTo(first.id());
    assertThat(selector.inFlight(first.id())).isZero();
    assertThat(outcome.result.get()).as("still under way").isNull();

    attempts.get(1).callback().succeeded("answer");
    assertThat(outcome.result.get()).isEqualTo("answer");
    assertThat(selector.inFlight(second.id())).isZero();
  }

  @Test
  void aFailureAfterTheRequestMayHaveReachedTheAppIsNotRetried() {
    Outcome outcome = new Outcome();
    balancer.call("svc", attempt, v -> false, outcome);
    IOException reset = new IOException("connection reset");
    attempts.get(0).callback().failed(reset);
    assertThat(attempts).hasSize(1);
    assertThat(outcome.result.get()).isSameAs(reset);
    assertThat(selector.inFlight("a") + selector.inFlight("b")).isZero();
  }

  @Test
  void retriesStopAtTheConfiguredCount() {
    Balancer none = new Balancer(registry, selector, 0);
    Outcome outcome = new Outcome();
    none.call("svc", attempt, v -> false, outcome);
    ConnectException refused = new ConnectException("refused");
    attempts.get(0).callback().failed(refused);
    assertThat(attempts).hasSize(1);
    assertThat(outcome.result.get()).isSameAs(refused);
  }

  @Test
  void disposingOfACallDisposesOfItsAttemptAndReleasesTheNode() {
    Outcome outcome = new Outcome();
    Disposable call = balancer.call("svc", attempt, v -> false, outcome);
    Pending p = attempts.get(0);
    call.dispose();
    assertThat(p.disposed()).isTrue();
    assertThat(selector.inFlight(p.node().id())).isZero();
    // an answer arriving after that is not passed on
    p.callback().succeeded("late");
    assertThat(outcome.result.get()).isNull();
  }

  @Test
  void anAnswerJudgedFailedCountsAgainstTheNodeButIsStillTheAnswer() {
    Balancer ejecting = new Balancer(registry, Selector.leastOutstanding(
        new SelectorConfig(1, Duration.ofMinutes(1), Ticker.systemTicker(), new Random(1))), 0);
    Outcome outcome = new Outcome();
    ejecting.call("svc", attempt, v -> v.startsWith("5"), outcome);
    Pending p = attempts.get(0);
    p.callback().succeeded("503");
    assertThat(outcome.result.get()).isEqualTo("503");
    assertThat(ejecting.selector().isEjected(p.node().id())).isTrue();
  }

  @Test
  void theMonoFormIsEmptyWhenTheAttemptIs() {
    assertThat(balancer.call("svc", node -> Mono.<String>empty(), v -> false).blockOptional()).isEmpty();
    assertThat(selector.inFlight("a") + selector.inFlight("b")).isZero();
    assertThat(balancer.call("svc", node -> Mono.just(node.id()), v -> false).block()).isIn("a", "b");
  }
}
