package io.micro.sidecar.server.cli;

/**
 * A launch line that gives a flag a value the sidecar cannot take, or flags that do not go together.
 * The message says what is wrong; picocli prints it after {@code micro: } with a pointer to the help of
 * the command the flag belongs to ({@link #global()}).
 */
final class InvalidFlagException extends IllegalArgumentException {

  private final boolean global;

  private InvalidFlagException(String message, boolean global) {
    super(message);
    this.global = global;
  }

  /** About the sidecar command's flags. */
  InvalidFlagException(String message) {
    this(message, false);
  }

  /** {@code Invalid value for option '--flag': what} */
  InvalidFlagException(Flag flag, String what) {
    this("Invalid value for option '" + flag.name() + "': " + what, GlobalFlags.ALL.contains(flag));
  }

  /** About {@code micro}'s own flags. */
  static InvalidFlagException global(String message) {
    return new InvalidFlagException(message, true);
  }

  /** Whether the flags it is about are {@code micro}'s own, which stand before the command. */
  boolean global() {
    return global;
  }
}
