package dev.trainingjob.operator.kube;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Reads one value of a Secret, for the operator and the kubectl plugin alike. The failures say
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
