package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.status.Conditions;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Ends a failed job's debug hold now: sets the annotation the operator reads, which releases the machine. Needs only
 * patch on trainingjobs; a job that is not held is refused, so an annotation set too early cannot skip a later hold.
 */
@Command(name = "release", mixinStandardHelpOptions = true,
    description = "Ends a failed job's debug hold (spec.limits.keepAfterFailureSeconds) now: the operator releases its machine.")
public final class ReleaseCommand implements Callable<Integer> {
  @Mixin
  PluginOptions options;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
  String name;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    return JobRequest.send(spec, options, name, Annotations.RELEASE, job -> {
      var status = job.getStatus();
      if (status == null || !Conditions.isTrue(status, ConditionType.DEBUG_HOLD)) {
        return Optional.of("is not in a debug hold (phase " + (status == null || status.phase == null ? "none" : status.phase)
            + "); there is nothing to release");
      }
      return Optional.empty();
    }, job -> "the debug hold ends; the operator releases its machine");
  }
}
