package io.micro.sidecar.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Bytes on a plain socket, for what an HTTP client library would not send or would hide. Blocking; test threads only. */
public final class RawHttp {

  private RawHttp() {}

  /** Sends the bytes to {@code port} on loopback and reads until the server closes; 10 s of silence fails. */
  public static String exchange(int port, byte[] request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (IOException e) {
        // the server may refuse a huge request before it is all sent; what it answered is still read
      }
      return drain(s.getInputStream());
    }
  }

  /** Reads until the end of the stream (a reset after the answer counts as the end); 10 s of silence fails. */
  public static String drain(InputStream in) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        got.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the connection got stuck: " + got.toString(StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      // reset after the answer: fine
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  /** The status of an HTTP/1.1 answer; 0 when there is none (the connection was just closed). */
  public static int status(String answer) {
    return answer.startsWith("HTTP/1.1 ") ? Integer.parseInt(answer.substring(9, 12)) : 0;
  }
}
