package dev.trainingjob.operator.cli;

import java.time.Duration;
import picocli.CommandLine;

/** Reads 500ms, 10s, 5m, 1h or an ISO-8601 duration (PT10S). */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    String v = value.trim().toLowerCase();
    try {
      if (v.startsWith("pt") || v.startsWith("p")) {
        return Duration.parse(value.trim().toUpperCase());
      }
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      long n = Long.parseLong(v.substring(0, v.length() - 1));
      return switch (v.charAt(v.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 500ms, 10s, 5m or 1h");
    }
  }

  /** The text that convert reads back as d, in the largest whole unit (10s, 5m, 24h), as --help shows defaults. */
  static String format(Duration d) {
    if (d.isZero() || d.isNegative() || d.getNano() % 1_000_000 != 0) {
      return d.toString();
    }
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }
}
