package dev.trainingjob.operator.provider;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.JobFailure;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The providers this operator has, and which one a job uses. */
public final class ProviderRegistry {
  private final Map<String, ComputeProvider> providers = new LinkedHashMap<>();
  private final String defaultProvider;

  public ProviderRegistry(String defaultProvider, List<ComputeProvider> available) {
    this.defaultProvider = defaultProvider;
    available.forEach(p -> providers.put(p.name(), p));
  }

  /** The provider named in spec.compute, or the default one. */
  public ComputeProvider forJob(TrainingJob job) {
    var compute = job.getSpec() == null ? null : job.getSpec().compute;
    List<String> named = compute == null ? List.of() : compute.named();
    String name = named.isEmpty() ? defaultProvider : named.get(0);
    ComputeProvider provider = providers.get(name);
    if (provider == null) {
      throw new JobFailure(Reason.ProviderUnavailable, "provider " + name + " is not configured in this operator (available: "
          + providers.keySet() + ")");
    }
    return provider;
  }

  public String defaultProvider() {
    return defaultProvider;
  }
}
