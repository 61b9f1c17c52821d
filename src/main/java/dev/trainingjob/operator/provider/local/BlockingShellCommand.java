package dev.trainingjob.operator.provider.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

/**
 * A command of the local machine's SSH server: a process whose output and input are copied by threads that block on them,
 * and whose end is told by the process itself ({@link Process#onExit}), so a command that waits (a job's exit-wait, open
 * for a minute) costs no CPU at all. MINA's own wrapper polls each command's streams, every millisecond by default: in the
 * operator's own process, since that is where the local machine's sshd runs, a third of a core for 32 waiting commands.
 */
final class BlockingShellCommand implements Command {
  private static final int BUFFER = 8192;
  /** How long the output may still come once the process ended (a child it left running may hold the pipe open). */
  private static final long DRAIN_MILLIS = 500;
  /** The exit status of a command whose process could not be started (a shell's "command not found"). */
  static final int CANNOT_START = 127;
  private final List<String> argv;
  private final Map<String, String> environment;
  private final Path directory;
  private final boolean onATerminal;
  private final ExecutorService threads;
  private InputStream in;
  private OutputStream out;
  private OutputStream err;
  private ExitCallback callback;
  private volatile Process process;

  /**
   * @param environment the process's whole environment (nothing of this process's own)
   * @param directory where the process starts
   * @param onATerminal the end of the client's input is not passed on (sshd ignores the end of a terminal's input; closing
   *     script's stdin would type a Ctrl-D into the job's window): the process ends with the channel instead
   */
  BlockingShellCommand(List<String> argv, Map<String, String> environment, Path directory, boolean onATerminal,
      ExecutorService threads) {
    this.argv = List.copyOf(argv);
    this.environment = Map.copyOf(environment);
    this.directory = directory;
    this.onATerminal = onATerminal;
    this.threads = threads;
  }

  @Override
  public void setInputStream(InputStream in) {
    this.in = in;
  }

  @Override
  public void setOutputStream(OutputStream out) {
    this.out = out;
  }

  @Override
  public void setErrorStream(OutputStream err) {
    this.err = err;
  }

  @Override
  public void setExitCallback(ExitCallback callback) {
    this.callback = callback;
  }

  @Override
  public void start(ChannelSession channel, Environment env) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(argv).directory(directory.toFile());
    builder.environment().clear();
    builder.environment().putAll(environment);
    Process p;
    try {
      p = builder.start();
    } catch (IOException cannot) {
      // the home removed meanwhile (a job released while a command of its login came in), no process to spare: this
      // command fails, as a shell that cannot be started does under sshd; thrown, it would end the whole connection
      String why = "the command could not be started: " + cannot.getMessage() + "\n";
      threads.execute(() -> {
        try {
          err.write(why.getBytes(java.nio.charset.StandardCharsets.UTF_8));
          err.flush();
        } catch (IOException | RuntimeException closed) {
          // the channel closed: nobody to tell
        }
        callback.onExit(CANNOT_START, why.strip());
      });
      return;
    }
    process = p;
    threads.execute(() -> {
      OutputStream stdin = p.getOutputStream();
      try {
        copy(in, stdin);
        if (!onATerminal) {
          stdin.close();
        }
      } catch (IOException | RuntimeException gone) {
        // the process ended, or the channel closed: nothing more to send
      }
    });
    CompletableFuture<Void> output = CompletableFuture.allOf(
        CompletableFuture.runAsync(() -> copyQuietly(p.getInputStream(), out), threads),
        CompletableFuture.runAsync(() -> copyQuietly(p.getErrorStream(), err), threads));
    p.onExit().thenAcceptAsync(ended -> {
      try {
        output.get(DRAIN_MILLIS, TimeUnit.MILLISECONDS); // all it wrote, before its exit status
      } catch (TimeoutException | java.util.concurrent.ExecutionException still) {
        // a child of it holds the output open: the command ended with its process, as sshd ends it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      callback.onExit(ended.exitValue());
    }, threads);
  }

  private static void copyQuietly(InputStream from, OutputStream to) {
    try {
      copy(from, to);
    } catch (IOException | RuntimeException closed) {
      // the process's stream or the channel closed: what was sent is sent
    }
  }

  private static void copy(InputStream from, OutputStream to) throws IOException {
    byte[] buffer = new byte[BUFFER];
    for (int n; (n = from.read(buffer)) >= 0; ) {
      if (n > 0) {
        to.write(buffer, 0, n);
        to.flush();
      }
    }
  }

  @Override
  public void destroy(ChannelSession channel) {
    Process p = process;
    if (p != null) {
      p.destroy();
    }
  }
}
