package io.micro.sidecar.server.http;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.publisher.Mono;

/**
 * One bound on the bytes the sidecar holds on clients' behalf ({@code --max_buffered_bytes}): request
 * bodies being read into memory and answers written but not yet taken by a client that does not read.
 * Work that would buffer past it is refused with 503 and counted, so a crowd of slow or stalled clients
 * costs at most this much memory, never an {@code OutOfMemoryError}.
 *
 * <p>Thread-safe and lock-free: reserved and released from any event loop.
 */
public final class BufferBudget {

  /** Answers smaller than this are written without being charged. */
  static final int SMALL_ANSWER = 16 * 1024;

  private final long max;
  private final AtomicLong used = new AtomicLong();
  private final LongAdder refused = new LongAdder();

  public BufferBudget(long max) {
    this.max = max;
  }

  /** Takes {@code bytes} from the budget, or takes nothing, counts a refusal and returns false. */
  public boolean tryReserve(long bytes) {
    for (long now = used.get(); ; now = used.get()) {
      if (now + bytes > max) {
        refused.increment();
        return false;
      }
      if (used.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /**
   * Runs {@code write}, an answer of {@code bytes}, if the budget has room for it; fails with
   * {@link ExhaustedException} (counted) without writing when it has not. The bytes themselves are
   * charged by {@link ConnectionLimits} as they go out, until the client has taken them. Answers under
   * {@link #SMALL_ANSWER} always go out; the connection limit bounds them.
   */
  public Mono<Void> holding(long bytes, Mono<Void> write) {
    if (bytes < SMALL_ANSWER) {
      return write;
    }
    return Mono.defer(() -> roomFor(bytes) ? write : Mono.error(new ExhaustedException(max)));
  }

  /** Whether an answer of {@code bytes} may go out now, as {@link #holding} decides; a refusal is counted. */
  boolean roomFor(long bytes) {
    if (bytes < SMALL_ANSWER || used.get() + bytes <= max) {
      return true;
    }
    refused.increment();
    return false;
  }

  /** Charges bytes already on their way, whatever the budget says; {@link #release} gives them back. */
  void charge(long bytes) {
    used.addAndGet(bytes);
  }

  /** Gives back what {@link #tryReserve} took. */
  public void release(long bytes) {
    used.addAndGet(-bytes);
  }

  public long used() {
    return used.get();
  }

  public long max() {
    return max;
  }

  /** Pieces of work refused because the budget was spent. */
  public long refused() {
    return refused.sum();
  }

  /** Refused because the sidecar already buffers {@code --max_buffered_bytes}; answered 503. */
  public static final class ExhaustedException extends RuntimeException {
    public ExhaustedException(long max) {
      super("sidecar busy: " + max + " bytes already buffered for other clients (--max_buffered_bytes); try again");
    }
  }
}
