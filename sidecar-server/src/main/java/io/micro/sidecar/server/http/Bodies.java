package io.micro.sidecar.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Arrays;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Reads small request bodies (registrations, RPC requests, published messages) into memory, within a
 * per-request bound ({@code --max_body_size}) and the sidecar-wide {@link BufferBudget}. Shared by
 * every handler; thread-safe.
 */
public final class Bodies {

  private final int max;
  private final BufferBudget budget;

  public Bodies(int max, BufferBudget budget) {
    this.max = max;
    this.budget = budget;
  }

  /**
   * The whole body as bytes; {@link BodyTooLargeException} as soon as it passes the bound (before
   * reading it when Content-Length says so), {@link BufferBudget.ExhaustedException} when the budget
   * cannot hold it. A body with a Content-Length is reserved whole and read into one array of that
   * size; a chunked one is reserved as it grows. The reservation is returned when reading ends —
   * completed, failed or cancelled. Netty's buffers are released by reactor-netty as they are copied.
   */
  public Mono<byte[]> read(HttpServerRequest req) {
    long declared = -1;
    String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null) {
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        // Netty's decoder has already rejected a malformed Content-Length; nothing to add here.
      }
      if (declared > max) {
        return Mono.error(new BodyTooLargeException(max));
      }
    }
    long expected = declared;
    return Mono.defer(() -> {
      Accumulator into = new Accumulator(expected);
      return req.receive()
          .reduce(into, Accumulator::add)
          .map(Accumulator::bytes)
          .doFinally(signal -> into.giveBack());
    });
  }

  /** True for the two ways a body is refused: too large for the bound, or no room in the budget. */
  public static boolean refused(Throwable e) {
    return e instanceof BodyTooLargeException || e instanceof BufferBudget.ExhaustedException;
  }

  /** The one-line answer to a refused body: 413 when it is too large, 503 with Retry-After when the budget is spent. */
  public static Mono<Void> refuse(HttpServerResponse res, Throwable e) {
    if (e instanceof BufferBudget.ExhaustedException) {
      res.header(HttpHeaderNames.RETRY_AFTER, "1");
      return Responses.text(res, HttpResponseStatus.SERVICE_UNAVAILABLE, e.getMessage());
    }
    return Responses.text(res, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, e.getMessage());
  }

  /** The request body is larger than the sidecar reads into memory. */
  public static final class BodyTooLargeException extends RuntimeException {
    BodyTooLargeException(int max) {
      super("body: larger than " + max + " bytes");
    }
  }

  /** Touched by one subscription at a time, on the connection's event loop. */
  private final class Accumulator {
    private byte[] bytes;
    private int size;
    private long reserved;

    Accumulator(long declared) {
      int initial = declared >= 0 ? (int) declared : 256;
      reserve(initial);
      this.bytes = new byte[initial];
    }

    Accumulator add(ByteBuf chunk) {
      int n = chunk.readableBytes();
      if ((long) size + n > max) {
        throw new BodyTooLargeException(max);
      }
      if (size + n > bytes.length) {
        int grown = (int) Math.min(max, Math.max(size + n, (long) bytes.length * 2));
        reserve(grown - bytes.length);
        bytes = Arrays.copyOf(bytes, grown);
      }
      chunk.getBytes(chunk.readerIndex(), bytes, size, n);
      size += n;
      return this;
    }

    private void reserve(long n) {
      if (!budget.tryReserve(n)) {
        throw new BufferBudget.ExhaustedException(budget.max());
      }
      reserved += n;
    }

    byte[] bytes() {
      return size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
    }

    void giveBack() {
      budget.release(reserved);
      reserved = 0;
    }
  }
}
