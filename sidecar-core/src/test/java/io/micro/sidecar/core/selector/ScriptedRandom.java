package io.micro.sidecar.core.selector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.random.RandomGenerator;

/** Hands out scripted draws and records the bounds asked for, for exact-sequence tests. */
final class ScriptedRandom implements RandomGenerator {

  private final Deque<Integer> script = new ArrayDeque<>();
  final List<Integer> bounds = new ArrayList<>();

  ScriptedRandom then(int... draws) {
    for (int d : draws) {
      script.addLast(d);
    }
    return this;
  }

  @Override
  public synchronized int nextInt(int bound) {
    bounds.add(bound);
    Integer next = script.pollFirst();
    assertThat(next).as("an unscripted draw below %d", bound).isNotNull();
    assertThat(next).as("scripted draw below %d", bound).isBetween(0, bound - 1);
    return next;
  }

  @Override
  public long nextLong() {
    throw new AssertionError("the selector draws with nextInt(bound) only");
  }

  void assertUsedUp() {
    assertThat(script).as("unused scripted draws").isEmpty();
  }
}
