package io.micro.sidecar.server.cli;

import io.micro.sidecar.core.config.GoDuration;
import java.time.Duration;
import picocli.CommandLine;

/** Reads flag values in Go's duration syntax ({@code 300ms}, {@code 5s}, {@code 1m30s}); they must be positive. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    Duration d;
    try {
      d = GoDuration.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
    if (d.isNegative() || d.isZero()) {
      throw new CommandLine.TypeConversionException("'" + value + "' (expected: a positive duration like 5s)");
    }
    return d;
  }
}
