package io.micro.sidecar.core.broker;

/**
 * Counters of the messages an {@link HttpBroker} sent to other sidecars since it started.
 *
 * @param delivered POSTs a peer answered with 2xx
 * @param failed    POSTs that failed: refused, timed out, or answered with another status
 * @param shed      messages not sent because {@code maxInFlight} POSTs were already under way
 * @param inFlight  POSTs under way now
 */
public record PeerStats(long delivered, long failed, long shed, int inFlight) {}
