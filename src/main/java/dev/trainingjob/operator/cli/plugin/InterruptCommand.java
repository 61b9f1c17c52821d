package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.Phase;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Interrupts a running job on purpose, as a spot interruption would: the operator gives the script the notice (the
 * interrupt file, SIGTERM, then SIGKILL after the grace period; checkpoints copied where they go), and the job resumes as its
 * next attempt, on the same machine. Users try their resume code on the demo before they pay for spot. Needs only patch on
 * trainingjobs; a job that is not running is refused, so an annotation set too early cannot interrupt a later attempt.
 */
@Command(name = "interrupt", mixinStandardHelpOptions = true,
    description = "Interrupts a running job as a spot interruption would (interrupt file, SIGTERM, grace, SIGKILL); "
        + "it resumes as its next attempt from its checkpoint.")
public final class InterruptCommand implements Callable<Integer> {
  @Mixin
  PluginOptions options;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
  String name;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    return JobRequest.send(spec, options, name, Annotations.INTERRUPT, job -> {
      var status = job.getStatus();
      if (status == null || status.phase != Phase.Running) {
        return Optional.of("is not running (phase " + (status == null || status.phase == null ? "none" : status.phase)
            + "); only a running script can be interrupted");
      }
      return Optional.empty();
    }, job -> "interrupted; the script gets the notice, and the job resumes as attempt "
        + ((job.getStatus().attempt == null ? 1 : job.getStatus().attempt) + 1));
  }
}
