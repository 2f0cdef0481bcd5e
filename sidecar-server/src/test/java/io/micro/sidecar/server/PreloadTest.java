package io.micro.sidecar.server;

import static org.assertj.core.api.Assertions.assertThatCode;

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
}
