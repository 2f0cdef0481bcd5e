package io.micro.sidecar.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

class LeakCheckTest {

  @Test
  void aDroppedBufferIsReportedSoTheBuildWouldFail() {
    dropOne();
    assertThat(LeakCheck.collect()).as("paranoid detection must see a dropped buffer")
        .anySatisfy(leak -> assertThat(leak).startsWith("LEAK"));
  }

  @Test
  void aReleasedBufferIsNotReported() {
    ByteBufAllocator.DEFAULT.directBuffer(64).writeInt(1).release();
    assertThat(LeakCheck.collect()).isEmpty();
  }

  private static void dropOne() {
    ByteBufAllocator.DEFAULT.directBuffer(64).writeInt(42);
  }
}
