package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.OutputsStatus;
import dev.trainingjob.operator.api.TrainingJobStatus;
import java.util.List;

/** What status.outputs says, and the part of a job's last message that tells where its outputs went. */
final class Outputs {
  private Outputs() {}

  static OutputsStatus of(TrainingJobStatus status) {
    if (status.outputs == null) {
      status.outputs = new OutputsStatus();
    }
    return status.outputs;
  }

  /** The paths the spec asks to keep; empty when it asks for none. */
  static List<String> paths(JobContext ctx) {
    var run = ctx.status().run;
    if (run != null && run.outputPaths != null) {
      return run.outputPaths; // a run stopped for a newer spec leaves what its own spec asked for
    }
    var output = ctx.job().getSpec().output;
    return output == null || output.paths == null ? List.of() : output.paths;
  }

  /** Records why the outputs were not saved, for a job that has some to save. */
  static void notSaved(JobContext ctx, String why) {
    if (!paths(ctx).isEmpty()) {
      of(ctx.status()).notSaved = why;
    }
  }

  /** "; outputs copied to URI", "; outputs collected to DIR (2 of 3; not written: x)", "; outputs not saved: why", or "". */
  static String summary(JobContext ctx) {
    OutputsStatus o = ctx.status().outputs;
    int asked = paths(ctx).size();
    if (o == null || asked == 0) {
      return "";
    }
    StringBuilder text = new StringBuilder();
    if (o.uri != null) {
      text.append("; outputs copied to ").append(o.uri);
    } else if (o.directory != null && o.collected != null) {
      text.append("; outputs collected to ").append(o.directory).append(" (").append(o.collected.size()).append(" of ")
          .append(asked).append(o.missing == null || o.missing.isEmpty() ? "" : "; not written: " + String.join(", ", o.missing))
          .append(")");
    }
    if (o.notSaved != null) {
      text.append(text.length() == 0 ? "; outputs not saved: " : "; not saved: ").append(o.notSaved);
    }
    return text.toString();
  }
}
