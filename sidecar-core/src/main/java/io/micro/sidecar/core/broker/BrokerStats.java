package io.micro.sidecar.core.broker;

/**
 * A snapshot of the broker's counters, for all topics or for one.
 *
 * @param topics      topics with at least one subscriber (0 or 1 for a single topic)
 * @param subscribers live subscribers, queue-group members included
 * @param buffered    messages held in subscribers' buffers, waiting for them to ask; never more than
 *                    {@code subscribers × bufferSize}
 * @param dropped     messages a subscriber lost to a full buffer; for all topics counted since the
 *                    broker started, for one topic since it last had no subscribers
 */
public record BrokerStats(int topics, int subscribers, long buffered, long dropped) {

  public static final BrokerStats EMPTY = new BrokerStats(0, 0, 0, 0);
}
