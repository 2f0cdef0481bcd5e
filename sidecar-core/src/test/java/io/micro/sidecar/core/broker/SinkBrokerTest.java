package io.micro.sidecar.core.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The memory broker: the {@link BrokerContract}, and its configuration. */
class SinkBrokerTest extends BrokerContract {

  @Override
  Broker newBroker(BrokerConfig config) {
    return Broker.memory(config);
  }

  @Test
  void theConfigRejectsNonsense() {
    assertThatThrownBy(() -> new BrokerConfig(0, BrokerConfig.Overflow.CLOSE))
        .hasMessage("buffer size: 0 (expected: 1 to 1048576 messages)");
    assertThat(BrokerConfig.Overflow.of("DROP_OLDEST")).isEqualTo(BrokerConfig.Overflow.DROP_OLDEST);
    assertThat(BrokerConfig.Overflow.of("close")).isEqualTo(BrokerConfig.Overflow.CLOSE);
    assertThatThrownBy(() -> BrokerConfig.Overflow.of("block"))
        .hasMessage("'block' (expected: drop_oldest or close)");
  }
}
