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
 * @param cut         subscribers cut off for falling behind (past their pending bytes, or the largest
 *                    when the broker's total was past its cap); counted like {@code dropped}
 */
public record BrokerStats(int topics, int subscribers, long buffered, long dropped, long cut) {

  public static final BrokerStats EMPTY = new BrokerStats(0, 0, 0, 0, 0);

  public BrokerStats(int topics, int subscribers, long buffered, long dropped) {
    this(topics, subscribers, buffered, dropped, 0);
  }
}
