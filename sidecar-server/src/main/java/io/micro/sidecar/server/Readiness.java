package io.micro.sidecar.server;

/**
 * Where a sidecar is in its life, for the parts that answer differently as it stops: ready (until
 * shutdown begins: {@code /readyz} fails from then on) and draining (once the listener is closed: every
 * answer carries {@code Connection: close}). Made before them, so nothing waits for the sidecar itself.
 * Thread-safe.
 */
public final class Readiness {

  private volatile boolean ready = true;
  private volatile boolean draining;

  public boolean ready() {
    return ready;
  }

  public boolean draining() {
    return draining;
  }

  void stopping() {
    ready = false;
  }

  void drain() {
    draining = true;
  }
}
