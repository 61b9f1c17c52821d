package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * probe.sh, run as the operator runs it: it sends only the log bytes the operator has not seen (the tail when it knows
 * none), and tells whether the job's driver lives from the driver's own process, without asking screen for its list of
 * sessions (a screen here records that it was asked).
 */
class ProbeLogAndSessionTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir
  Path tmp;
  Path job;
  Path bin;
  private final List<Process> started = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    job = Files.createDirectories(tmp.resolve("home/.trainingjob/0f0e0d0c-uid"));
    try (InputStream in = getClass().getResourceAsStream("/remote/probe.sh")) {
      Files.write(job.resolve("probe.sh"), in.readAllBytes());
    }
    Files.createDirectories(job.resolve("config"));
    Files.writeString(job.resolve("config/session"), "tj-probe-0f0e0d0c");
    Files.createDirectories(job.resolve("started"));
    bin = Files.createDirectories(tmp.resolve("bin"));
    Path screen = Files.writeString(bin.resolve("screen"), "#!/bin/sh\necho asked >> \"" + tmp.resolve("screen-asked") + "\"\n");
    screen.toFile().setExecutable(true);
  }

  @AfterEach
  void stopDrivers() {
    started.forEach(Process::destroyForcibly);
  }

  private JsonNode probe(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", job.resolve("probe.sh").toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(tmp.resolve("err").toFile()).redirectOutput(tmp.resolve("out").toFile());
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    Process p = pb.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(tmp.resolve("err"))).isZero();
    return JSON.readTree(Files.readString(tmp.resolve("out")));
  }

  private static String log(JsonNode n) {
    return new String(Base64.getDecoder().decode(n.path("log").asText()), StandardCharsets.UTF_8);
  }

  private void append(String text) throws Exception {
    Files.writeString(job.resolve("output.log"), text, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
  }

  @Test
  void aProbeSendsOnlyWhatTheOperatorHasNotSeenAndTheTailToOneThatKnowsNothing() throws Exception {
    append("epoch 1\n");
    JsonNode first = probe("32768");
    assertThat(log(first)).isEqualTo("epoch 1\n");
    assertThat(first.path("logFrom").asLong()).isZero();
    String id = first.path("logId").asText();
    assertThat(id).isNotEmpty();

    append("epoch 2\n");
    JsonNode second = probe("32768", "8", id);
    assertThat(log(second)).as("only the new bytes").isEqualTo("epoch 2\n");
    assertThat(second.path("logFrom").asLong()).isEqualTo(8);

    JsonNode nothingNew = probe("32768", "16", id);
    assertThat(nothingNew.path("log").asText()).isEmpty();
    assertThat(nothingNew.path("logFrom").asLong()).isEqualTo(16);

    assertThat(log(probe("32768", "8", "1" + id))).as("another file: the tail").isEqualTo("epoch 1\nepoch 2\n");
    assertThat(log(probe("32768", "99", id))).as("a file shorter than asked: the tail").isEqualTo("epoch 1\nepoch 2\n");
    assertThat(log(probe("10", "2", id))).as("more new than a probe sends: the tail").isEqualTo("1\nepoch 2\n");

    // the operator's window, fed as the probes come, holds the whole tail
    LogWindow window = new LogWindow(32768);
    for (String more : List.of("", "epoch 3\n", "", "epoch 4\n")) {
      append(more);
      LogWindow.Asked asked = window.asked();
      List<String> args = new ArrayList<>(List.of("32768"));
      if (!asked.args().isBlank()) {
        args.addAll(List.of(asked.args().strip().split(" ")));
      }
      ProbeParser.parse(JSON.writeValueAsString(probe(args.toArray(String[]::new))), window, asked);
    }
    assertThat(window.add(window.asked(), window.asked().from(), window.asked().id(), new byte[0]))
        .isEqualTo("epoch 1\nepoch 2\nepoch 3\nepoch 4\n");
  }

  @Test
  void theDriversOwnProcessSaysWhetherTheSessionLivesWithoutAskingScreen() throws Exception {
    Path driver = Files.writeString(job.resolve("driver.sh"), "sleep 600\n");
    Process running = new ProcessBuilder("bash", driver.toString()).start();
    started.add(running);
    Files.writeString(job.resolve("driver.pid"), running.pid() + "\n");
    assertThat(probe("32768").path("sessionAlive").asBoolean()).isTrue();

    Process other = new ProcessBuilder("sleep", "600").start();
    started.add(other);
    Files.writeString(job.resolve("driver.pid"), other.pid() + "\n");
    assertThat(probe("32768").path("sessionAlive").asBoolean()).as("a process that is not this job's driver").isFalse();

    Files.writeString(job.resolve("driver.pid"), running.pid() + "\n");
    running.destroyForcibly().waitFor();
    assertThat(probe("32768").path("sessionAlive").asBoolean()).as("the driver is gone").isFalse();
    assertThat(tmp.resolve("screen-asked")).as("screen was never asked while the driver's pid told").doesNotExist();

    // once the exit is recorded the debug hold may keep a shell in the session: screen says
    Files.writeString(job.resolve("exit_code"), "0\n");
    probe("32768");
    assertThat(tmp.resolve("screen-asked")).exists();
  }
}
