package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.status.Conditions;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.Map;
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
    return PluginErrors.run(spec, () -> {
      try (var client = options.client()) {
        String namespace = options.namespace(client);
        TrainingJob job = JobAccess.find(client, namespace, name);
        var status = job.getStatus();
        if (status == null || !Conditions.isTrue(status, ConditionType.DEBUG_HOLD)) {
          throw new PluginException(namespace + "/" + name + " is not in a debug hold (phase "
              + (status == null || status.phase == null ? "none" : status.phase) + "); there is nothing to release");
        }
        String patch = io.fabric8.kubernetes.client.utils.Serialization.asJson(
            Map.of("metadata", Map.of("annotations", Map.of(Annotations.RELEASE, Instant.now().toString()))));
        client.resources(TrainingJob.class).inNamespace(namespace).withName(name)
            .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        spec.commandLine().getOut().println(namespace + "/" + name + ": the debug hold ends; the operator releases its machine");
        spec.commandLine().getOut().flush();
        return 0;
      }
    });
  }
}
