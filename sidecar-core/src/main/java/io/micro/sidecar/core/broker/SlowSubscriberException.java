package io.micro.sidecar.core.broker;

/**
 * Ends a subscriber whose buffer overflowed under {@link BrokerConfig.Overflow#CLOSE}: it fell more
 * than the buffer size behind and would otherwise have missed messages.
 */
public final class SlowSubscriberException extends RuntimeException {

  SlowSubscriberException(String topic, int bufferSize) {
    super("subscriber: more than " + bufferSize + " messages behind on topic " + topic
        + " (expected: a subscriber that keeps up)", null, false, false);
  }
}
