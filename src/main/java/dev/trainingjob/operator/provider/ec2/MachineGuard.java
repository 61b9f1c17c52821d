package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.LimitsSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The instance's own dead-man's switch: {@code guard.sh} (in resources, {@code ec2/}), which cloud-init's
 * bootcmd writes and arms on every boot, before the operator ever connects. It powers the instance off
 * once the operator has not checked in for the heartbeat timeout (each probe touches its heartbeat file;
 * none yet counts from the first boot) or once the job's ceiling passed. Its state is on disk, outside
 * /run, so a reboot neither disarms it nor resets the heartbeat.
 *
 * <p>Why bootcmd: it is the only cloud-init module that runs on every boot, and it runs before the SSH
 * user exists and before sshd starts. The guard then runs as a transient systemd unit (restarted if it
 * dies) where systemd runs, and in the background elsewhere.
 */
final class MachineGuard {
  /** The guard's state: root's (guard.sh, armed-at, guard.log, guard.pid, checked-at). */
  static final String DIRECTORY = "/var/lib/trainingjob-guard";
  /** What the SSH user writes there, without sudo: heartbeat (touched by each probe) and ceiling (by the driver). */
  static final String FEED_DIRECTORY = DIRECTORY + "/job";
  /**
   * The test hook: a path the guard, driver.sh and probe.sh put in front of {@link #DIRECTORY}, where a test
   * plays the machine (the fake EC2's instances); the guard then also leaves systemd alone. Never set on a machine.
   */
  static final String TEST_ROOT_VARIABLE = "TRAININGJOB_GUARD_ROOT";

  private static final String SCRIPT = resource("/ec2/guard.sh");

  private final Duration heartbeatTimeout;
  private final String powerOffCommand;

  MachineGuard(Duration heartbeatTimeout, String powerOffCommand) {
    this.heartbeatTimeout = heartbeatTimeout;
    this.powerOffCommand = powerOffCommand;
  }

  static MachineGuard of(Ec2Settings settings) {
    return new MachineGuard(settings.heartbeatTimeout(), settings.shutdownCommand());
  }

  /**
   * How often the guard looks: a thirtieth of the timeout, between a second and a minute. So the instance is gone
   * at most a minute after the timeout, and a short test timeout is still checked every second.
   */
  static Duration interval(Duration heartbeatTimeout) {
    long seconds = Math.max(1, Math.min(60, heartbeatTimeout.toSeconds() / 30));
    return Duration.ofSeconds(seconds);
  }

  /**
   * When the guard powers the instance off whatever happens, counted from the driver's start: maxRuntimeSeconds
   * plus the grace; null without maxRuntimeSeconds (the heartbeat alone bounds the instance then).
   */
  static Long ceilingSeconds(LimitsSpec limits, Duration grace) {
    return limits == null || limits.maxRuntimeSeconds == null ? null : limits.maxRuntimeSeconds + grace.toSeconds();
  }

  /**
   * The bootcmd entry, as YAML for the #cloud-config's top level. A list entry, so cloud-init quotes each item for
   * the shell itself; the wrapper writes guard.sh (a quoted here-document: nothing in it is expanded) and arms it.
   */
  String bootcmd() {
    StringBuilder y = new StringBuilder("bootcmd:\n  - - sh\n    - -c\n    - |\n");
    String wrapper = "d=${" + TEST_ROOT_VARIABLE + ":-}" + DIRECTORY + "\n"
        + "mkdir -p \"$d\" && cat > \"$d/guard.sh\" <<'GUARD' && exec sh \"$d/guard.sh\" arm \"$@\"\n"
        + SCRIPT
        + "GUARD\n";
    wrapper.lines().forEach(line -> y.append(line.isEmpty() ? "" : "      " + line).append('\n'));
    y.append("    - trainingjob-guard\n")
        .append("    - \"").append(heartbeatTimeout.toSeconds()).append("\"\n")
        .append("    - \"").append(interval(heartbeatTimeout).toSeconds()).append("\"\n")
        .append("    - ").append(yamlQuoted(powerOffCommand)).append('\n');
    return y.toString();
  }

  /** A YAML double-quoted scalar: any text, line breaks and quotes included, comes back exactly. */
  static String yamlQuoted(String s) {
    StringBuilder q = new StringBuilder("\"");
    s.codePoints().forEach(c -> {
      switch (c) {
        case '"' -> q.append("\\\"");
        case '\\' -> q.append("\\\\");
        case '\n' -> q.append("\\n");
        case '\t' -> q.append("\\t");
        case '\r' -> q.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7f || c == 0x85 || c == 0x2028 || c == 0x2029 || c == 0xfeff) {
            q.append(String.format("\\u%04x", c));
          } else {
            q.appendCodePoint(c);
          }
        }
      }
    });
    return q.append('"').toString();
  }

  private static String resource(String name) {
    try (InputStream in = MachineGuard.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (!text.endsWith("\n") || text.lines().anyMatch("GUARD"::equals)) {
        throw new IllegalStateException(name + " must end with a line break and hold no line GUARD (it ends its here-document)");
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
