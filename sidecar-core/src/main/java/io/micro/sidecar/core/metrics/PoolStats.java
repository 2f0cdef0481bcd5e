package io.micro.sidecar.core.metrics;

/**
 * The pool of connections to apps, summed over every node's pool.
 *
 * @param pools   nodes with a pool
 * @param active  connections lent out to calls
 * @param idle    open connections waiting for a call
 * @param pending calls waiting for a connection
 */
public record PoolStats(int pools, int active, int idle, int pending) {

  public static final PoolStats EMPTY = new PoolStats(0, 0, 0, 0);
}
