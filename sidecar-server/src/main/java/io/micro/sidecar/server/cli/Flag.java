package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.config.GoDuration;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One flag of {@code micro} or {@code micro sidecar}, defined once: its name, the label and help text
 * {@code --help} shows, its default (null: none) and how its text becomes a value. Both readers of a
 * launch line take their flags from here: picocli's model, built from these for {@code --help}, errors
 * and the CLI commands, and {@link LaunchLine}, which starts a sidecar without building that model.
 *
 * <p>Not a record: each flag is one constant, equal only to itself, and a record's {@code hashCode} is
 * bootstrapped through method handles the first time it runs (18 ms of a start, in a profile).
 */
final class Flag {

  /** How a flag's text is read. */
  enum Kind {
    TEXT, INT, LONG, PATH,
    /** {@code true} or {@code false} in any case; the flag alone means true. */
    BOOL,
    /** Go's duration syntax ({@code 300ms}, {@code 5s}, {@code 1m30s}), positive. */
    DURATION,
    /** The original's whole seconds ({@code --register_ttl=30}), or a Go duration. */
    SECONDS
  }

  private final String name;
  private final String label;
  private final String defaultValue;
  private final Kind kind;
  private final String description;

  private Flag(String name, String label, String defaultValue, Kind kind, String description) {
    if (defaultValue == null && (kind == Kind.INT || kind == Kind.LONG || kind == Kind.BOOL)) {
      throw new IllegalArgumentException(name + ": no default (expected: one for every number and boolean flag)");
    }
    this.name = name;
    this.label = label;
    this.defaultValue = defaultValue;
    this.kind = kind;
    this.description = description;
  }

  static Flag of(Kind kind, String name, String label, String defaultValue, String description) {
    return new Flag(name, label, defaultValue, kind, description);
  }

  /** {@code --address} */
  String name() {
    return name;
  }

  /** {@code <host:port>}, as {@code --help} shows the value */
  String label() {
    return label;
  }

  /** The value when neither the line nor the environment gives one; null: none. */
  String defaultValue() {
    return defaultValue;
  }

  Kind kind() {
    return kind;
  }

  /** The help text, where {@code ${DEFAULT-VALUE}} is the default. */
  String description() {
    return description;
  }

  @Override
  public String toString() {
    return name;
  }

  /**
   * The environment variable read when this flag of {@code command} is absent (contract §1): global
   * flags {@code MICRO_<FLAG>}, the sidecar's {@code MICRO_SIDECAR_<FLAG>}.
   */
  static String variable(String command, String flag) {
    String name = flag.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    return command.equals(GlobalFlags.COMMAND) ? "MICRO_" + name : "MICRO_" + command.toUpperCase(Locale.ROOT) + "_" + name;
  }

  /** The value {@code env} gives {@code flag} of {@code command}; null when its variable is absent or empty (the flag's default applies). */
  static String environment(Map<String, String> env, String command, String flag) {
    String value = env.get(variable(command, flag));
    return value == null || value.isEmpty() ? null : value;
  }

  /** The flag of {@code flags} called {@code name} ({@code --address}), or null. */
  static Flag named(List<Flag> flags, String name) {
    for (Flag flag : flags) {
      if (flag.name.equals(name)) {
        return flag;
      }
    }
    return null;
  }

  /** A value as picocli's model holds it: {@code Boolean} for BOOL, {@code Integer}, {@code Long}, {@code Path}, {@code Duration}, {@code String}. */
  Class<?> type() {
    return switch (kind) {
      case TEXT -> String.class;
      case INT -> Integer.class;
      case LONG -> Long.class;
      case PATH -> Path.class;
      case BOOL -> Boolean.class;
      case DURATION, SECONDS -> Duration.class;
    };
  }

  /**
   * Reads {@code text} as this flag's value; picocli calls it too (through {@link MicroCommand}), so
   * both readers of a line take the same values and refuse the same ones.
   *
   * @throws IllegalArgumentException saying what was wrong and what was expected, without the flag's
   *     name (the caller names it)
   */
  Object convert(String text) {
    return switch (kind) {
      case TEXT -> text;
      case INT -> {
        try {
          yield Integer.valueOf(text);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("'" + text + "' is not an int");
        }
      }
      case LONG -> {
        try {
          yield Long.valueOf(text);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("'" + text + "' is not a long");
        }
      }
      case PATH -> {
        try {
          yield Path.of(text);
        } catch (InvalidPathException e) {
          throw new IllegalArgumentException("'" + text + "' is not a path");
        }
      }
      case BOOL -> {
        if ("true".equalsIgnoreCase(text) || "false".equalsIgnoreCase(text)) {
          yield Boolean.valueOf(text);
        }
        throw new IllegalArgumentException("'" + text + "' is not a boolean");
      }
      case DURATION -> positive(text);
      case SECONDS -> {
        String v = text.trim();
        if (v.isEmpty() || !v.chars().allMatch(Character::isDigit)) {
          yield positive(text);
        }
        long seconds;
        try {
          seconds = Long.parseLong(v);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("'" + text + "' (expected: a positive number of seconds)");
        }
        if (seconds < 1) {
          throw new IllegalArgumentException("'" + text + "' (expected: a positive number of seconds)");
        }
        yield Duration.ofSeconds(seconds);
      }
    };
  }

  private static Duration positive(String text) {
    Duration d = GoDuration.parse(text);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("'" + text + "' (expected: a positive duration like 5s)");
    }
    return d;
  }
}
