package io.micro.sidecar.core.metrics;

/**
 * Hears how every call the sidecar makes to an app ended (RPC, catch-all and proxy). Called once per
 * call, on whatever thread ended it (often an event loop), so implementations must be cheap,
 * thread-safe and never block.
 */
@FunctionalInterface
public interface CallObserver {

  /** Hears nothing. */
  CallObserver NOOP = (service, outcome, nanos) -> { };

  /**
   * @param service the service called (as asked for: an unknown name too), or the address for a call
   *                sent straight to one
   * @param nanos   from the start of the call to its end, retries included
   */
  void called(String service, CallOutcome outcome, long nanos);
}
