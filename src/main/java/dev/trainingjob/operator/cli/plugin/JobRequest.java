package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A request a person makes of the operator about one job (release a debug hold, interrupt a script, rerun it): an
 * annotation with the time as its value, set only when the job's status says the request means something now, so that one
 * set too early cannot act on a later state. Needs only get and patch on trainingjobs.
 */
final class JobRequest {
  private JobRequest() {}

  /**
   * @param refusal why the job, as it is now, cannot take the request (empty: it can)
   * @param done the line printed once the annotation is set
   */
  static Integer send(CommandSpec spec, PluginOptions options, String name, String annotation,
      Function<TrainingJob, Optional<String>> refusal, Function<TrainingJob, String> done) throws Exception {
    return send(spec, options, name, annotation, job -> Instant.now().toString(), refusal, done);
  }

  /**
   * @param value the annotation's new value, from the job as it is now
   * @param refusal why the job, as it is now, cannot take the request (empty: it can)
   * @param done the line printed once the annotation is set
   */
  static Integer send(CommandSpec spec, PluginOptions options, String name, String annotation,
      Function<TrainingJob, String> value, Function<TrainingJob, Optional<String>> refusal, Function<TrainingJob, String> done)
      throws Exception {
    return PluginErrors.run(spec, () -> {
      try (var client = options.client()) {
        String namespace = options.namespace(client);
        TrainingJob job = JobAccess.find(client, namespace, name);
        Optional<String> refused = refusal.apply(job);
        if (refused.isPresent()) {
          throw new PluginException(namespace + "/" + name + " " + refused.get());
        }
        String patch = io.fabric8.kubernetes.client.utils.Serialization.asJson(
            Map.of("metadata", Map.of("annotations", Map.of(annotation, value.apply(job)))));
        client.resources(TrainingJob.class).inNamespace(namespace).withName(name)
            .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        spec.commandLine().getOut().println(namespace + "/" + name + ": " + done.apply(job));
        spec.commandLine().getOut().flush();
        return 0;
      }
    });
  }
}
