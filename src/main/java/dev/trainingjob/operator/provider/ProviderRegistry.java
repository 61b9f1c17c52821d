package dev.trainingjob.operator.provider;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.JobFailure;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The providers this operator has, and which one a job uses. */
public final class ProviderRegistry {
  private final Map<String, ComputeProvider> providers = new LinkedHashMap<>();
  private final Map<String, String> off;
  private final String defaultProvider;

  public ProviderRegistry(String defaultProvider, List<ComputeProvider> available) {
    this(defaultProvider, available, Map.of());
  }

  /**
   * @param defaultProvider the provider of a job whose spec.compute names none; null for none
   * @param off providers this operator has not started, each with why: what a job that names one is told
   */
  public ProviderRegistry(String defaultProvider, List<ComputeProvider> available, Map<String, String> off) {
    this.defaultProvider = defaultProvider;
    this.off = Map.copyOf(off);
    available.forEach(p -> providers.put(p.name(), p));
  }

  /** The provider the spec asks for: the one named in spec.compute, or the default one; null when neither says. */
  public String requested(TrainingJob job) {
    var compute = job.getSpec() == null ? null : job.getSpec().compute;
    List<String> named = compute == null ? List.of() : compute.named();
    return named.isEmpty() ? defaultProvider : named.get(0);
  }

  /**
   * The provider that holds the job: the one recorded in status at admission, so that an edited
   * spec.compute never sends a release to a provider that launched nothing; before admission, the
   * one the spec asks for.
   */
  public ComputeProvider forJob(TrainingJob job) {
    var status = job.getStatus();
    String name = status != null && status.provider != null ? status.provider : requested(job);
    if (name == null) {
      // nothing was held yet: a spec that cannot say where it runs here can never run here
      throw new JobFailure(Reason.InvalidSpec, "spec.compute names no provider, and this operator has no default provider: "
          + "name one in spec.compute (this operator has: " + String.join(", ", providers.keySet()) + ")");
    }
    return named(name).orElseThrow(() -> new JobFailure(Reason.ProviderUnavailable, "provider " + name
        + (off.containsKey(name) ? " is off in this operator: " + off.get(name) : " is not configured in this operator")
        + " (available: " + String.join(", ", providers.keySet()) + ")"));
  }

  public Optional<ComputeProvider> named(String name) {
    return Optional.ofNullable(providers.get(name));
  }

  /** The default provider's name; null when the operator has none. */
  public String defaultProvider() {
    return defaultProvider;
  }
}
