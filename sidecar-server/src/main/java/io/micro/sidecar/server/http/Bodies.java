package io.micro.sidecar.server.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.ByteArrayOutputStream;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;

/** Reads small request bodies (registrations, RPC requests) into memory, within a bound. */
public final class Bodies {

  private Bodies() {}

  /**
   * The whole body as bytes, or {@link BodyTooLargeException} as soon as it passes {@code max}
   * bytes — before reading it when Content-Length says so. Netty's buffers are released as they are
   * copied; a refused body is not read further.
   */
  public static Mono<byte[]> read(HttpServerRequest req, int max) {
    String declared = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
    if (declared != null) {
      try {
        if (Long.parseLong(declared.trim()) > max) {
          return Mono.error(new BodyTooLargeException(max));
        }
      } catch (NumberFormatException e) {
        // Netty's decoder has already rejected a malformed Content-Length; nothing to add here.
      }
    }
    return req.receive()
        .asByteArray()
        .collect(() -> new Accumulator(max), Accumulator::add)
        .map(Accumulator::bytes);
  }

  /** The request body is larger than the sidecar reads into memory. */
  public static final class BodyTooLargeException extends RuntimeException {
    BodyTooLargeException(int max) {
      super("body: larger than " + max + " bytes");
    }
  }

  private static final class Accumulator {
    private final int max;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    Accumulator(int max) {
      this.max = max;
    }

    void add(byte[] chunk) {
      if (out.size() + chunk.length > max) {
        throw new BodyTooLargeException(max);
      }
      out.write(chunk, 0, chunk.length);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
