package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The machine's guard (guard.sh) itself, run by the real shells in a temporary state directory through
 * its test hook, with a power-off command that only writes a file: what it decides, and when.
 */
class GuardScriptTest {
  /** The power-off command: one line per request, with the guard's reason. */
  static final String OFF = "echo \"$1\" >> \"$OFF_LOG\"";

  @TempDir
  Path tmp;
  Path state;
  private final List<ProcessHandle> started = new ArrayList<>();

  @BeforeEach
  void install() throws IOException {
    state = Files.createDirectories(tmp.resolve("var/lib/trainingjob-guard"));
    try (InputStream in = GuardScriptTest.class.getResourceAsStream("/ec2/guard.sh")) {
      Files.write(state.resolve("guard.sh"), in.readAllBytes());
    }
  }

  @AfterEach
  void stopGuards() {
    for (ProcessHandle p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    guardPid().flatMap(ProcessHandle::of).ifPresent(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"dash", "bash"})
  void withoutAHeartbeatTheTimeCountsFromTheFirstBoot(String shell) throws Exception {
    Files.createDirectories(state.resolve("job"));
    long now = Instant.now().getEpochSecond();
    Files.writeString(state.resolve("armed-at"), (now - 10) + "\n");
    assertThat(check(shell, 60)).as("armed 10s ago, 60s allowed").isEmpty();

    Files.writeString(state.resolve("armed-at"), (now - 100) + "\n");
    assertThat(check(shell, 60)).singleElement(STRING)
        .startsWith("no heartbeat for ").endsWith("(none since the first boot at " + (now - 100) + ")");
  }

  @ParameterizedTest
  @ValueSource(strings = {"dash", "bash"})
  void aFreshHeartbeatKeepsTheMachineAndAStaleOnePowersItOff(String shell) throws Exception {
    Files.createDirectories(state.resolve("job"));
    Files.writeString(state.resolve("armed-at"), (Instant.now().getEpochSecond() - 1000) + "\n");
    Path heartbeat = Files.writeString(state.resolve("job/heartbeat"), "");
    assertThat(check(shell, 60)).as("a probe just now").isEmpty();

    long stale = Instant.now().getEpochSecond() - 100;
    Files.setLastModifiedTime(heartbeat, FileTime.from(Instant.ofEpochSecond(stale)));
    assertThat(check(shell, 60)).singleElement(STRING)
        .startsWith("no heartbeat for ").endsWith("(the last at " + stale + ")");
  }

  @ParameterizedTest
  @ValueSource(strings = {"dash", "bash"})
  void aPassedCeilingPowersOffWhateverTheHeartbeatSays(String shell) throws Exception {
    Files.createDirectories(state.resolve("job"));
    Files.writeString(state.resolve("armed-at"), Instant.now().getEpochSecond() + "\n");
    Files.writeString(state.resolve("job/heartbeat"), "");
    long later = Instant.now().getEpochSecond() + 100;
    Files.writeString(state.resolve("job/ceiling"), later + "\n");
    assertThat(check(shell, 3600)).isEmpty();

    long passed = Instant.now().getEpochSecond() - 1;
    Files.writeString(state.resolve("job/ceiling"), passed + "\n");
    assertThat(check(shell, 3600)).containsExactly("the ceiling " + passed + " passed");
  }

  @Test
  void aPowerOffCommandThatFailsIsLogged() throws Exception {
    Files.createDirectories(state.resolve("job"));
    Files.writeString(state.resolve("job/ceiling"), "1\n");
    run("sh", "check", "60", "1", "echo 'not allowed' >&2; exit 3").waitFor(30, TimeUnit.SECONDS);
    assertThat(Files.readString(state.resolve("guard.log"))).contains("powering off: the ceiling 1 passed", "not allowed",
        "the power-off command failed with 3");
  }

  @Test
  void theRunningGuardAsksOnceAndKeepsLooking() throws Exception {
    Files.createDirectories(state.resolve("job"));
    Files.writeString(state.resolve("armed-at"), (Instant.now().getEpochSecond() - 100) + "\n");
    run("sh", "run", "60", "1", OFF);

    await().atMost(Duration.ofSeconds(30)).until(() -> !requests().isEmpty());
    long asked = Instant.now().getEpochSecond();
    // three more looks, each past the timeout still: no second request (the next one only after five minutes)
    await().atMost(Duration.ofSeconds(30)).until(() -> checkedAt() >= asked + 3);
    assertThat(requests()).singleElement(STRING)
        .contains("none since the first boot");
  }

  @Test
  void armingOnEveryBootStartsTheGuardAndNeverResetsTheFirstBootsTime() throws Exception {
    run("sh", "arm", "400", "1", OFF).waitFor(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> guardAlive().isPresent());
    long firstGuard = guardAlive().orElseThrow().pid();
    assertThat(state.resolve("armed-at")).exists();
    // the SSH user, created after the first bootcmd, writes heartbeat and ceiling there without sudo
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("job")))).isEqualTo("rwxrwxrwx");
    assertThat(requests()).isEmpty();

    // a reboot, as far as the guard can tell: it is gone, the disk stays; the first boot was 500s ago
    ProcessHandle.of(firstGuard).orElseThrow().destroy();
    await().atMost(Duration.ofSeconds(30)).until(() -> guardAlive().isEmpty());
    long firstBoot = Instant.now().getEpochSecond() - 500;
    Files.writeString(state.resolve("armed-at"), firstBoot + "\n");
    run("sh", "arm", "400", "1", OFF).waitFor(30, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(30)).until(() -> !requests().isEmpty());
    assertThat(Files.readString(state.resolve("armed-at")).trim()).isEqualTo(Long.toString(firstBoot));
    assertThat(requests()).singleElement(STRING)
        .endsWith("(none since the first boot at " + firstBoot + ")");
    assertThat(guardAlive()).isPresent().get().extracting(ProcessHandle::pid).isNotEqualTo(firstGuard);
    assertThat(Files.readString(state.resolve("guard.log")).lines().filter(l -> l.contains(" armed: "))).hasSize(2);
  }

  // ---- helpers

  /** One look ("guard.sh check"); what it asked for. */
  private List<String> check(String shell, int timeoutSeconds) throws Exception {
    Files.deleteIfExists(tmp.resolve("off"));
    Process p = run(shell, "check", Integer.toString(timeoutSeconds), "1", OFF);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return requests();
  }

  private Process run(String shell, String mode, String timeout, String interval, String off) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(shell, state.resolve("guard.sh").toString(), mode, timeout, interval, off)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("output").toFile()));
    // the test hook: never systemd, whatever this machine runs; and the power-off command only writes a file
    pb.environment().put(MachineGuard.TEST_ROOT_VARIABLE, tmp.toString());
    pb.environment().put("OFF_LOG", tmp.resolve("off").toString());
    Process p = pb.start();
    started.add(p.toHandle());
    return p;
  }

  private List<String> requests() throws IOException {
    Path off = tmp.resolve("off");
    return Files.exists(off) ? Files.readAllLines(off) : List.of();
  }

  private long checkedAt() throws IOException {
    Path f = state.resolve("checked-at");
    return Files.exists(f) ? Long.parseLong(Files.readString(f).trim()) : 0;
  }

  private Optional<Long> guardPid() {
    try {
      return Optional.of(Long.parseLong(Files.readString(state.resolve("guard.pid")).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private Optional<ProcessHandle> guardAlive() {
    return guardPid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
  }
}
