package io.micro.sidecar.server.cli;

/**
 * A launch line that names a flag's value the sidecar cannot take, or flags that do not go together;
 * the message is the whole line {@code micro} prints after its name.
 */
final class InvalidFlagException extends IllegalArgumentException {

  InvalidFlagException(String message) {
    super(message);
  }

  /** {@code Invalid value for option '--flag': what} */
  InvalidFlagException(Flag flag, String what) {
    this("Invalid value for option '" + flag.name() + "': " + what);
  }
}
