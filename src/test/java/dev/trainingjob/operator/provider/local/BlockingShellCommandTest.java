package dev.trainingjob.operator.provider.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.server.ExitCallback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command of the local machine's sshd runs in the login's home with the login's environment and nothing else, and one
 * whose process cannot start fails as a command (its channel told why), not as the whole connection.
 */
class BlockingShellCommandTest {
  @TempDir
  Path tmp;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  private BlockingShellCommand command(String script, Path home) {
    var command = new BlockingShellCommand(List.of("/bin/sh", "-c", script),
        Map.of("HOME", home.toString(), "PATH", "/usr/bin:/bin", "LANG", "C.UTF-8"), home, false, threads);
    command.setInputStream(new ByteArrayInputStream(new byte[0]));
    command.setOutputStream(out);
    command.setErrorStream(err);
    command.setExitCallback(new ExitCallback() {
      @Override
      public void onExit(int status, String message, boolean closeImmediately) {
        exit.complete(status);
      }
    });
    return command;
  }

  @Test
  void aCommandRunsInTheHomeWithTheLoginsEnvironmentOnly() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    command("pwd; env", home).start(null, null);

    assertThat(exit.get(30, TimeUnit.SECONDS)).isZero();
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines.get(0)).isEqualTo(home.toRealPath().toString());
    // the shell adds its own bookkeeping (PWD, SHLVL, _); nothing of this process's environment
    assertThat(lines.subList(1, lines.size())).map(l -> l.substring(0, l.indexOf('=')))
        .containsAll(List.of("HOME", "PATH", "LANG")).allMatch(name -> List.of("HOME", "PATH", "LANG", "PWD", "SHLVL", "_",
            "OLDPWD").contains(name));
  }

  @Test
  void aCommandWhoseHomeIsGoneFailsAndSaysWhy() throws Exception {
    // a job released (its home removed) while a command of its login came in
    command("echo ran", tmp.resolve("removed")).start(null, null);

    assertThat(exit.get(30, TimeUnit.SECONDS)).isEqualTo(BlockingShellCommand.CANNOT_START);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("the command could not be started: ");
  }
}
