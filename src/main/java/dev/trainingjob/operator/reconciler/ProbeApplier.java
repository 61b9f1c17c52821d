package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.ProbeStatus;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hands each probe to {@link ProbeStatus} with the job's Secret values to mask, read from the API
 * once per job rather than on every probe.
 */
final class ProbeApplier {
  private final Map<String, Set<String>> secrets = new ConcurrentHashMap<>();

  void apply(JobContext ctx, ProbeResult probe) {
    // per run: a new run's spec may name other Secrets
    var run = ctx.status().run;
    String key = ctx.job().getMetadata().getUid() + "/" + (run == null || run.number == null ? 1 : run.number);
    Set<String> values = secrets.computeIfAbsent(key, k -> ctx.bundles().secretValues(ctx.job()));
    ProbeStatus.apply(ctx.status(), probe, values, ctx.now(), ctx.job().getMetadata().getGeneration());
  }

  /** Forgets what it cached for a job (at release). */
  void forget(String uid) {
    secrets.keySet().removeIf(key -> key.startsWith(uid + "/"));
  }
}
