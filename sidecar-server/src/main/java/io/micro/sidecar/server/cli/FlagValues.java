package io.micro.sidecar.server.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The values of one command's flags, read from a launch line, the environment or the defaults, as
 * {@link Flag#convert} made them; which of them the line itself gave (the original's global forms such as
 * {@code --sidecar_address} act unless the sidecar's own flag is on the line).
 */
final class FlagValues {

  private final Map<Flag, Object> values = new HashMap<>();
  private final Set<Flag> given = new HashSet<>();

  void put(Flag flag, Object value, boolean onTheLine) {
    values.put(flag, value);
    if (onTheLine) {
      given.add(flag);
    }
  }

  boolean given(Flag flag) {
    return given.contains(flag);
  }

  /** Null when the flag has no value and no default. */
  String text(Flag flag) {
    return (String) values.get(flag);
  }

  int integer(Flag flag) {
    return (Integer) values.get(flag);
  }

  long number(Flag flag) {
    return (Long) values.get(flag);
  }

  boolean bool(Flag flag) {
    return (Boolean) values.get(flag);
  }

  /** Null when the flag has no value and no default. */
  Duration duration(Flag flag) {
    return (Duration) values.get(flag);
  }

  /** Null when the flag has no value and no default. */
  Path path(Flag flag) {
    return (Path) values.get(flag);
  }
}
