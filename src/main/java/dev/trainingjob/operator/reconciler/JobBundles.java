package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.CheckpointSpec;
import dev.trainingjob.operator.api.EnvVarSpec;
import dev.trainingjob.operator.api.PythonSpec;
import dev.trainingjob.operator.api.ScriptSpec.GitSource;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobSpec;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.kube.Secrets;
import dev.trainingjob.operator.provider.host.HostProvider;
import dev.trainingjob.operator.remote.JobBundle;
import dev.trainingjob.operator.remote.MachineDuties;
import dev.trainingjob.operator.remote.JobRef;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Resolves a job's spec into the bundle to upload: ConfigMap files and Secret values are read
 * here, at upload time, and never written anywhere but the machine's files of mode 0600 (the
 * environment file, the git credentials).
 */
public class JobBundles {
  private final KubernetesClient client;

  public JobBundles(KubernetesClient client) {
    this.client = client;
  }

  public JobBundle build(TrainingJob job, MachineDuties duties) {
    TrainingJobSpec spec = job.getSpec();
    String ns = job.getMetadata().getNamespace();
    Map<String, byte[]> files = new LinkedHashMap<>();
    if (spec.script.configMap != null) {
      ConfigMap cm = client.configMaps().inNamespace(ns).withName(spec.script.configMap).get();
      if (cm == null) {
        throw new IllegalStateException("ConfigMap " + ns + "/" + spec.script.configMap + " named in spec.script.configMap does not exist");
      }
      if (cm.getData() != null) {
        cm.getData().forEach((k, v) -> files.put(k, v.getBytes(StandardCharsets.UTF_8)));
      }
      if (cm.getBinaryData() != null) {
        cm.getBinaryData().forEach((k, v) -> files.put(k, Base64.getDecoder().decode(v)));
      }
    }
    if (spec.script.inline != null) {
      spec.script.inline.forEach((k, v) -> files.put(k, v.getBytes(StandardCharsets.UTF_8)));
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (spec.env != null) {
      for (EnvVarSpec var : spec.env) {
        env.put(var.name, var.valueFrom != null ? secretValue(ns, var.valueFrom.secretKeyRef) : nullToEmpty(var.value));
      }
    }
    PythonSpec py = spec.python;
    var python = new JobBundle.Python(PythonSpec.bootstrapOf(py), py == null ? null : py.version,
        py == null || py.requirements == null ? List.of() : py.requirements,
        py == null || py.condaPackages == null ? List.of() : py.condaPackages);
    var git = spec.script.git == null ? null
        : new JobBundle.Git(spec.script.git.url, spec.script.git.ref, gitCredentials(ns, spec.script.git));
    return new JobBundle(JobRef.of(job), files, spec.script.entrypoint,
        spec.script.args == null ? List.of() : spec.script.args, env, python, git,
        spec.output == null || spec.output.paths == null ? List.of() : spec.output.paths,
        spec.limits == null ? null : spec.limits.maxRuntimeSeconds, duties,
        new JobBundle.Checkpoint(CheckpointSpec.pathOf(spec.checkpoint), CheckpointSpec.syncIntervalOf(spec.checkpoint)));
  }

  /**
   * The first thing the spec names in the API that cannot be read now (a ConfigMap, a Secret or one
   * of its keys), as a phrase naming it and the field; empty when everything resolves. Admission asks
   * before anything is launched: a reference made later (a Secret created after the job) keeps the
   * job waiting, instead of failing on a machine that is already paid for.
   */
  public Optional<String> missingReference(TrainingJob job) {
    TrainingJobSpec spec = job.getSpec();
    String ns = job.getMetadata().getNamespace();
    if (spec.script != null && spec.script.configMap != null
        && client.configMaps().inNamespace(ns).withName(spec.script.configMap).get() == null) {
      return Optional.of("ConfigMap " + ns + "/" + spec.script.configMap + " (spec.script.configMap)");
    }
    if (spec.env != null) {
      for (int i = 0; i < spec.env.size(); i++) {
        var ref = spec.env.get(i).valueFrom == null ? null : spec.env.get(i).valueFrom.secretKeyRef;
        if (ref != null) {
          Optional<String> problem = unreadable(ns, ref.name, ref.key, "spec.env[" + i + "] " + spec.env.get(i).name);
          if (problem.isPresent()) {
            return problem;
          }
        }
      }
    }
    var git = spec.script == null ? null : spec.script.git;
    if (git != null && git.credentialsSecret != null) {
      // the key the URL's transport needs: token for https, ssh-privatekey for ssh
      Optional<String> problem = unreadable(ns, git.credentialsSecret, GitSource.credentialKey(git.url),
          "spec.script.git.credentialsSecret");
      if (problem.isPresent()) {
        return problem;
      }
    }
    var host = spec.compute == null ? null : spec.compute.host;
    if (host != null && host.privateKeySecret != null) {
      return unreadable(ns, host.privateKeySecret, HostProvider.KEY_FIELD, "spec.compute.host.privateKeySecret");
    }
    return Optional.empty();
  }

  /** The clone's credentials from spec.script.git.credentialsSecret: a token for https, a deploy key for ssh. */
  private JobBundle.GitCredentials gitCredentials(String ns, GitSource git) {
    if (git.credentialsSecret == null) {
      return null;
    }
    String field = "spec.script.git.credentialsSecret";
    if (GitSource.overSsh(git.url)) {
      return JobBundle.GitCredentials.sshKey(secretValue(ns, git.credentialsSecret, GitSource.SSH_KEY, field),
          optionalValue(ns, git.credentialsSecret, GitSource.KNOWN_HOSTS_KEY, field));
    }
    return JobBundle.GitCredentials.token(optionalValue(ns, git.credentialsSecret, GitSource.USERNAME_KEY, field),
        secretValue(ns, git.credentialsSecret, GitSource.TOKEN_KEY, field));
  }

  private String optionalValue(String ns, String name, String key, String field) {
    try {
      return Secrets.value(client, ns, name, key);
    } catch (Secrets.Unavailable e) {
      if (e.problem() == Secrets.Problem.NO_KEY) {
        return null;
      }
      throw new IllegalStateException(e.getMessage() + " (" + field + ")", e);
    }
  }

  private Optional<String> unreadable(String ns, String name, String key, String field) {
    try {
      Secrets.value(client, ns, name, key);
      return Optional.empty();
    } catch (Secrets.Unavailable e) {
      return Optional.of(e.getMessage() + " (" + field + ")");
    }
  }

  /**
   * The values of the Secrets the job names (its environment's, its git credentials): what the log
   * tail, messages and Events must never show. A Secret gone since the upload adds nothing.
   */
  public Set<String> secretValues(TrainingJob job) {
    return Secrets.valuesNamedBy(client, job);
  }

  private String secretValue(String ns, EnvVarSpec.SecretKeyRef ref) {
    return secretValue(ns, ref.name, ref.key, "spec.env");
  }

  private String secretValue(String ns, String name, String key, String field) {
    try {
      return Secrets.value(client, ns, name, key);
    } catch (Secrets.Unavailable e) {
      if (e.problem() == Secrets.Problem.NO_KEY) {
        throw new JobFailure(Reason.InvalidSecret, e.getMessage() + " (" + field + ")");
      }
      // a Secret not there yet may still be created: worth retrying
      throw new IllegalStateException(e.getMessage() + " (" + field + ")", e);
    }
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
