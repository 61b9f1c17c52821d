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

  /** Runs and insists on success. */
  public String ok(String... args) {
    Result r = run(args);
    if (r.code() != 0) {
      throw new AssertionError("kubectl " + String.join(" ", args) + " exited " + r.code() + ": " + r.err());
    }
    return r.out();
  }
}
