package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Phase;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Finishing: collect the outputs, then end the job as Succeeded or Failed by its exit code. */
final class FinishStep implements JobStep {
  @Override
  public StepResult run(JobContext ctx) throws Exception {
    var spec = ctx.job().getSpec();
    List<String> paths = spec.output == null || spec.output.paths == null ? List.of() : spec.output.paths;
    String collected = "";
    Optional<Path> destination = ctx.provider().outputDirectory(ctx.job());
    if (!paths.isEmpty() && destination.isPresent()) {
      List<Path> got = ctx.remote().collect(ctx.ref(), paths, destination.get());
      collected = "; outputs collected to " + destination.get() + " (" + got.size() + " of " + paths.size() + ")";
    }
    String uri = ctx.provider().duties(ctx.job()).outputUri();
    if (uri != null) {
      // the driver copied them before it recorded the exit (a failed copy ends in OutputSyncFailed instead)
      ctx.status().outputUri = uri;
      collected += "; outputs copied to " + uri;
    }
    Integer exit = ctx.status().exitCode;
    if (exit != null && exit == 0) {
      ctx.moveTo(Phase.Succeeded, "Succeeded", "The script exited with code 0" + collected);
    } else {
      ctx.moveTo(Phase.Failed, "ScriptFailed", "The script exited with code " + exit + lastLine(ctx) + collected);
    }
    return StepResult.next();
  }

  /** The last non-empty log line: for a Python exception, the exception itself. */
  private static String lastLine(JobContext ctx) {
    List<String> tail = ctx.status().logTail;
    if (tail == null) {
      return "";
    }
    for (int i = tail.size() - 1; i >= 0; i--) {
      if (!tail.get(i).isBlank()) {
        return ": " + tail.get(i).strip();
      }
    }
    return "";
  }
}
