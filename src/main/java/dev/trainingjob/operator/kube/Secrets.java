package dev.trainingjob.operator.kube;

import dev.trainingjob.operator.api.EnvVarSpec;
import dev.trainingjob.operator.api.ScriptSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads Secret values, for the operator and the kubectl plugin alike. The failures say
 * which of the three it is, so each caller can decide what it means (a Secret that may still be
 * created is worth waiting for; a key that is not there is a mistake in the spec), and their
 * messages name the Secret and the key, never a value.
 */
public final class Secrets {
  private Secrets() {}

  /** Why a value could not be read. */
  public enum Problem {
    /** The Secret does not exist (yet). */
    NO_SECRET,
    /** The Secret exists and lacks the key. */
    NO_KEY,
    /** The API refused to show the Secret to this client. */
    FORBIDDEN
  }

  /** A Secret value that could not be read; the message names the Secret (and key), never a value. */
  public static final class Unavailable extends RuntimeException {
    private final Problem problem;

    Unavailable(Problem problem, String message) {
      super(message);
      this.problem = problem;
    }

    public Problem problem() {
      return problem;
    }
  }

  /** The value of {@code key} in Secret {@code namespace/name}, as UTF-8 text. */
  public static String value(KubernetesClient client, String namespace, String name, String key) {
    Secret secret;
    try {
      secret = client.secrets().inNamespace(namespace).withName(name).get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403) {
        throw new Unavailable(Problem.FORBIDDEN, "not allowed to read Secret " + namespace + "/" + name);
      }
      throw e;
    }
    if (secret == null) {
      throw new Unavailable(Problem.NO_SECRET, "Secret " + namespace + "/" + name + " does not exist");
    }
    return value(secret, key, namespace + "/" + name);
  }

  /**
   * The values of the Secrets a job names (its Secret-backed environment, its git credentials): what
   * text shown to people must never contain. What cannot be read (a Secret gone, one this client may
   * not read) is left out: the shapes of credentials are still masked.
   */
  public static Set<String> valuesNamedBy(KubernetesClient client, TrainingJob job) {
    Set<String> values = new HashSet<>();
    TrainingJobSpec spec = job.getSpec();
    if (spec == null) {
      return values;
    }
    String ns = job.getMetadata().getNamespace();
    if (spec.env != null) {
      for (EnvVarSpec var : spec.env) {
        if (var != null && var.valueFrom != null && var.valueFrom.secretKeyRef != null) {
          readInto(values, client, ns, var.valueFrom.secretKeyRef.name, var.valueFrom.secretKeyRef.key);
        }
      }
    }
    var git = spec.script == null ? null : spec.script.git;
    if (git != null && git.credentialsSecret != null) {
      readInto(values, client, ns, git.credentialsSecret, ScriptSpec.GitSource.TOKEN_KEY);
      readInto(values, client, ns, git.credentialsSecret, ScriptSpec.GitSource.SSH_KEY);
    }
    return values;
  }

  private static void readInto(Set<String> values, KubernetesClient client, String ns, String name, String key) {
    if (name == null || key == null) {
      return;
    }
    try {
      values.add(value(client, ns, name, key));
    } catch (Unavailable | KubernetesClientException e) {
      // nothing of it can be masked by value; the job goes on
    }
  }

  /** The value of {@code key} in a Secret already read. */
  public static String value(Secret secret, String key) {
    var meta = secret.getMetadata();
    String where = meta == null ? "" : meta.getNamespace() == null ? meta.getName() : meta.getNamespace() + "/" + meta.getName();
    return value(secret, key, where);
  }

  private static String value(Secret secret, String key, String where) {
    // the API server folds stringData into data; a Secret that has not been through one (a test's, a mock's) may still carry it
    if (secret.getData() != null && secret.getData().containsKey(key)) {
      return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }
    if (secret.getStringData() != null && secret.getStringData().containsKey(key)) {
      return secret.getStringData().get(key);
    }
    throw new Unavailable(Problem.NO_KEY, "Secret " + where + " has no key " + key);
  }
}
