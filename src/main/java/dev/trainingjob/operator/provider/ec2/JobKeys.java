package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.kube.Secrets;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;

/**
 * A job's two SSH key pairs, kept in a Secret the TrainingJob owns (so Kubernetes deletes it with
 * the job): the login key, whose public half cloud-init authorises, and the instance's host key,
 * which cloud-init installs, so the first connection already knows whom it talks to. The Secret
 * is written before the launch and read back on every later reconcile: a restarted operator
 * launches with exactly the same user data, which keeps RunInstances idempotent.
 */
public final class JobKeys {
  public static final String LOGIN_PRIVATE = "ssh-privatekey";
  public static final String LOGIN_PUBLIC = "ssh-publickey";
  public static final String HOST_PRIVATE = "host-privatekey";
  public static final String HOST_PUBLIC = "host-publickey";

  /** Both pairs; toString never shows a private key. */
  record Keys(String secretName, KeyPair login, KeyPair host, String hostPrivatePem) {
    String loginPublicLine() {
      return SshKeys.publicLine(login.getPublic());
    }

    String hostPublicLine() {
      return SshKeys.publicLine(host.getPublic());
    }

    @Override
    public String toString() {
      return "Keys[" + secretName + "]";
    }
  }

  private final KubernetesClient client;
  /** Keys per job uid: read once, not on every probe. */
  private final Map<String, Keys> cache = new ConcurrentHashMap<>();

  JobKeys(KubernetesClient client) {
    this.client = client;
  }

  /** The name of a job's key Secret: NAME-ssh. */
  public static String secretName(TrainingJob job) {
    return job.getMetadata().getName() + "-ssh";
  }

  /** The job's keys, generating and storing them the first time. */
  Keys ensure(TrainingJob job) throws Exception {
    return keys(job, true);
  }

  /** The stored keys, or an error saying why there are none (the instance cannot be reached without them). */
  Keys existing(TrainingJob job) throws Exception {
    return keys(job, false);
  }

  private Keys keys(TrainingJob job, boolean create) throws Exception {
    Keys known = cache.get(job.getMetadata().getUid());
    if (known != null) {
      return known;
    }
    Secret secret = read(job);
    if (secret == null && !create) {
      throw new IllegalStateException("the job's key Secret " + job.getMetadata().getNamespace() + "/" + secretName(job)
          + " is missing; the instance cannot be reached without it");
    }
    if (secret == null) {
      try {
        secret = client.secrets().inNamespace(job.getMetadata().getNamespace()).resource(generate(job)).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        secret = read(job); // created by an earlier attempt that did not see its answer
      }
    }
    Keys keys = parse(secret);
    cache.put(job.getMetadata().getUid(), keys);
    return keys;
  }

  void delete(TrainingJob job) {
    cache.remove(job.getMetadata().getUid());
    Secret secret = client.secrets().inNamespace(job.getMetadata().getNamespace()).withName(secretName(job)).get();
    if (secret != null && owned(secret, job)) {
      client.resource(secret).delete();
    }
  }

  private Secret read(TrainingJob job) {
    Secret secret = client.secrets().inNamespace(job.getMetadata().getNamespace()).withName(secretName(job)).get();
    if (secret != null && !owned(secret, job)) {
      // most often the Secret of an earlier job of the same name that garbage collection has not removed yet
      throw new IllegalStateException("Secret " + job.getMetadata().getNamespace() + "/" + secretName(job)
          + " exists and does not belong to this TrainingJob; waiting for it to be deleted (delete it if it is not a job's)");
    }
    return secret;
  }

  private static boolean owned(Secret secret, TrainingJob job) {
    return secret.getMetadata().getOwnerReferences() != null && secret.getMetadata().getOwnerReferences().stream()
        .anyMatch(o -> job.getMetadata().getUid().equals(o.getUid()));
  }

  private static Secret generate(TrainingJob job) throws Exception {
    KeyPair login = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    KeyPair host = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    Map<String, String> data = new LinkedHashMap<>();
    data.put(LOGIN_PRIVATE, b64(SshKeys.privateText(login, "trainingjob-" + job.getMetadata().getName())));
    data.put(LOGIN_PUBLIC, b64(SshKeys.publicLine(login.getPublic()) + "\n"));
    data.put(HOST_PRIVATE, b64(SshKeys.privateText(host, "host")));
    data.put(HOST_PUBLIC, b64(SshKeys.publicLine(host.getPublic()) + "\n"));
    return new SecretBuilder()
        .withNewMetadata()
          .withName(secretName(job))
          .withNamespace(job.getMetadata().getNamespace())
          .addToLabels(Ec2Tags.UID, job.getMetadata().getUid())
          .addToLabels("app.kubernetes.io/managed-by", "trainingjob-operator")
          .withOwnerReferences(new OwnerReferenceBuilder()
              .withApiVersion(job.getApiVersion()).withKind(job.getKind())
              .withName(job.getMetadata().getName()).withUid(job.getMetadata().getUid())
              .withController(true).build())
        .endMetadata()
        .withType("kubernetes.io/ssh-auth")
        .withData(data)
        .build();
  }

  private static Keys parse(Secret secret) throws Exception {
    String name = secret.getMetadata().getName();
    String hostPem = Secrets.value(secret, HOST_PRIVATE);
    return new Keys(name, load(name, Secrets.value(secret, LOGIN_PRIVATE)), load(name, hostPem), hostPem);
  }

  private static KeyPair load(String secretName, String pem) throws Exception {
    return SshKeys.privateKey(pem, "Secret " + secretName);
  }

  private static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
