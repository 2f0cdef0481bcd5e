package io.micro.sidecar.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What is written to {@code System.err} while it is installed, copied to the real stderr too so that a
 * failing run still shows everything. slf4j-simple (the sidecar's log) writes to whatever
 * {@code System.err} is at the time. Install in a {@code @BeforeEach}, {@link #close()} in an {@code @AfterEach}.
 */
public final class CapturedStderr implements AutoCloseable {

  private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
  private final PrintStream original;

  private CapturedStderr() {
    original = System.err;
    System.setErr(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
  }

  public static CapturedStderr install() {
    return new CapturedStderr();
  }

  /** Everything written so far. */
  public String text() {
    synchronized (captured) {
      return captured.toString(StandardCharsets.UTF_8);
    }
  }

  @Override
  public void close() {
    System.setErr(original);
  }

  private static final class Tee extends OutputStream {
    private final PrintStream out;
    private final ByteArrayOutputStream copy;

    Tee(PrintStream out, ByteArrayOutputStream copy) {
      this.out = out;
      this.copy = copy;
    }

    @Override
    public void write(int b) {
      out.write(b);
      synchronized (copy) {
        copy.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) {
      out.write(b, off, len);
      synchronized (copy) {
        copy.write(b, off, len);
      }
    }
  }
}
