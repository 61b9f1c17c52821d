package dev.trainingjob.operator.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tmux server of a test's own (its socket in the test's directory): real terminals for a program under test. Each window
 * runs one shell command line and stays once it ended; its exit status and everything it wrote to the terminal, escape
 * sequences included, are kept in files.
 */
public final class Tmux implements AutoCloseable {
  private final Path socket;
  private final Path dir;

  public Tmux(Path dir) {
    this.dir = dir;
    this.socket = dir.resolve("tmux.sock");
  }

  /**
   * Starts {@code command} (a shell command line) in a new window {@code name} of {@code columns} x {@code rows}. It begins
   * only once its output is being recorded, so the recording holds the first frame. Returns the recording's file.
   */
  public Path start(String name, String command, int columns, int rows) throws IOException, InterruptedException {
    Path script = dir.resolve(name + ".sh");
    Path gate = dir.resolve(name + ".go");
    Path recording = dir.resolve(name + ".out");
    Path status = dir.resolve(name + ".status");
    // the window waits for the gate, which is opened once pipe-pane records it; the shell outlives a Ctrl-C (caught, so the
    // command still gets it) to write the command's exit status, which tmux does not always report at once
    Files.writeString(script, "while [ ! -e '" + gate + "' ]; do sleep 0.05; done\ntrap : INT\n" + command + "\n"
        + "echo $? > '" + status + ".partial' && mv '" + status + ".partial' '" + status + "'\n");
    if (Files.exists(socket)) {
      tmux("new-window", "-d", "-n", name, "sh " + script);
    } else {
      tmux("-f", "/dev/null", "new-session", "-d", "-s", "test", "-n", name, "-x", String.valueOf(columns), "-y",
          String.valueOf(rows), "sh " + script);
    }
    tmux("set-option", "-w", "-t", target(name), "remain-on-exit", "on");
    tmux("pipe-pane", "-o", "-t", target(name), "cat >> '" + recording + "'");
    Files.createFile(gate);
    return recording;
  }

  /** Keys as tmux names them ("C-c", "Enter", "C-a", "d"). */
  public void send(String name, String... keys) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("send-keys", "-t", target(name)));
    args.addAll(List.of(keys));
    tmux(args.toArray(String[]::new));
  }

  /** What the window's terminal shows now. */
  public String screen(String name) throws IOException, InterruptedException {
    return tmux("capture-pane", "-p", "-t", target(name));
  }

  /** The exit status of the window's command, or null while it runs. */
  public Integer exitStatus(String name) throws IOException {
    Path status = dir.resolve(name + ".status");
    return Files.exists(status) ? Integer.valueOf(Files.readString(status).strip()) : null;
  }

  /** A recording as text, without the terminal's escape sequences (a redrawn row reads as the rows it was). */
  public static String text(Path recording) throws IOException {
    if (!Files.exists(recording)) {
      return "";
    }
    return Files.readString(recording, StandardCharsets.UTF_8)
        .replaceAll("\u001b\\[[0-9;?]*[A-Za-z]", "").replace("\r", "");
  }

  private String target(String name) {
    return "test:" + name;
  }

  private String tmux(String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("tmux", "-S", socket.toString()));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", argv) + " failed: " + out);
    }
    return out;
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (Files.exists(socket)) {
      new ProcessBuilder("tmux", "-S", socket.toString(), "kill-server").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }
  }
}
