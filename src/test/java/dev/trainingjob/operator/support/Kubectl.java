package dev.trainingjob.operator.support;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real kubectl binary, pointed at a kubeconfig. */
public final class Kubectl {
  public record Result(int code, String out, String err) {}

  private final Path kubeconfig;

  public Kubectl(Path kubeconfig) {
    this.kubeconfig = kubeconfig;
  }

  public Result run(String... args) {
    List<String> command = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString(), "--request-timeout=20s"));
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).start();
      p.getOutputStream().close();
      var out = p.getInputStream().readAllBytes();
      var err = p.getErrorStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("kubectl " + String.join(" ", args) + " did not finish");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException("could not run kubectl", e);
    }
  }

  /**
   * A kubectl that keeps running ({@code get -w}): its output goes to {@code output} as it comes; closing it ends the
   * process. No request timeout: a watch is one long request.
   */
  public Running start(Path output, String... args) {
    List<String> command = new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString()));
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      p.getOutputStream().close();
      return new Running(p, output);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("could not start kubectl", e);
    }
  }

  /** A kubectl started with {@link #start}. */
  public record Running(Process process, Path output) implements AutoCloseable {
    /** What it has printed so far (stdout and stderr). */
    public String printed() {
      try {
        return java.nio.file.Files.readString(output);
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }

  /** Runs and insists on success. */
  public String ok(String... args) {
    Result r = run(args);
    if (r.code() != 0) {
      throw new AssertionError("kubectl " + String.join(" ", args) + " exited " + r.code() + ": " + r.err());
    }
    return r.out();
  }
}
