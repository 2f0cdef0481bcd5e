package io.micro.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PreloadTest {

  /** A library upgrade that renames one of them would silently take its share of the start back. */
  @Test
  void everyClassItPreloadsExists() {
    for (String name : Preload.CLASSES) {
      assertThatCode(() -> Class.forName(name, false, PreloadTest.class.getClassLoader()))
          .as(name).doesNotThrowAnyException();
    }
  }

  /**
   * An initialiser that fails on the preload thread: the start reports what it threw (on the main
   * thread, JDK 17 would only say "Could not initialize class"), and the classes after it still load.
   */
  @Test
  void theStartReportsAFailingInitialisersCauseAndTheRestStillLoad() {
    Preload p = Preload.start(List.of(Broken.class.getName(), Fine.class.getName()));
    assertThatThrownBy(p::await).hasMessageContaining("no configuration for the broken part")
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThatCode(p::await).as("reported once").doesNotThrowAnyException();
    assertThat(Fine.INITIALISED_ON).as("the class after the broken one was initialised by the preload").isEqualTo("preload");
  }

  static final class Broken {
    static final String VALUE = fail();

    private static String fail() {
      throw new IllegalArgumentException("no configuration for the broken part");
    }
  }

  static final class Fine {
    static final String INITIALISED_ON = Thread.currentThread().getName();
  }
}
