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

  /**
   * What a configuration record refused, named by its setting ({@code client_retries}): about a global
   * flag when only {@code micro} has a flag of that name ({@code register_ttl} is the sidecar's too).
   */
  static InvalidFlagException setting(String setting, String what) {
    String name = "--" + setting;
    boolean global = Flag.named(GlobalFlags.ALL, name) != null && Flag.named(SidecarFlags.ALL, name) == null;
    return new InvalidFlagException("Invalid value for option '" + name + "': " + what, global);
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
