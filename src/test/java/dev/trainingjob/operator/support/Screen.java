package dev.trainingjob.operator.support;

import java.nio.charset.StandardCharsets;

/** What GNU screen has running on this machine. */
public final class Screen {
  private Screen() {}

  public static boolean hasSession(String name) {
    try {
      Process p = new ProcessBuilder("screen", "-ls").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      return out.lines().map(String::strip).anyMatch(l -> l.matches("\\d+\\." + java.util.regex.Pattern.quote(name) + "\\s.*"));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Ends a session if it is there: a test that failed half-way must not leave a script running. */
  public static void quit(String name) {
    try {
      new ProcessBuilder("screen", "-S", name, "-X", "quit").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
