package dev.trainingjob.operator.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The processes on this machine, read from /proc: what the machines of the tests (all on loopback) run. */
public final class Processes {
  private Processes() {}

  /** How many processes have a command line holding every one of {@code words}. */
  public static long withCommandLine(String... words) {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs.filter(p -> p.getFileName().toString().matches("\\d+"))
          .map(Processes::commandLine)
          .filter(line -> List.of(words).stream().allMatch(line::contains))
          .count();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String commandLine(Path proc) {
    try {
      return new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException gone) {
      return ""; // ended while the list was read
    }
  }
}
