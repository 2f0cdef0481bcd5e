package io.micro.sidecar.server.cli;

import java.time.Duration;
import picocli.CommandLine;

/**
 * The original's integer-seconds flags ({@code --register_ttl=30}); a Go duration ({@code 30s}) is
 * read too.
 */
final class SecondsConverter implements CommandLine.ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    String v = value.trim();
    if (!v.isEmpty() && v.chars().allMatch(Character::isDigit)) {
      long seconds = Long.parseLong(v);
      if (seconds < 1) {
        throw new CommandLine.TypeConversionException("'" + value + "' (expected: a positive number of seconds)");
      }
      return Duration.ofSeconds(seconds);
    }
    return new DurationConverter().convert(value);
  }
}
