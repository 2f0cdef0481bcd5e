package io.micro.sidecar.core.config;

/**
 * A setting given a value it cannot have. Names the setting as its flag does, without the dashes
 * ({@code client_retries}), so that the command line says which flag was wrong without reading the
 * message; the message says what was wrong and what was expected.
 */
public final class InvalidSettingException extends IllegalArgumentException {

  private final String setting;

  public InvalidSettingException(String setting, String message) {
    super(message);
    this.setting = setting;
  }

  /** The setting's flag name without the dashes: {@code client_retries}. */
  public String setting() {
    return setting;
  }
}
