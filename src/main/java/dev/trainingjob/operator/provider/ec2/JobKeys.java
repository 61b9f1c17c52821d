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
import java.security.PublicKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;

/**
 * A job's SSH keys, kept in a Secret the TrainingJob owns (so Kubernetes deletes it with the job):
 * the login key, whose public half cloud-init authorises; the boot host key, which cloud-init
 * installs, so the first connection already knows whom it talks to; and the host key to expect now,
 * which is the boot key's public half until the operator replaced it ({@link HostKeyRotation}). The
 * Secret is written before the launch and read back on every later reconcile: a restarted operator
 * launches with exactly the same user data, which keeps RunInstances idempotent.
 *
 * <p>A replacement, made on the instance (its private half never leaves it), is recorded in two writes
 * around its installation, so an operator that dies at any line can still connect: first its public
 * half as pending (the instance may present either key from then on), then, once the instance
 * presented the new key, as the key to expect.
 */
public final class JobKeys {
  public static final String LOGIN_PRIVATE = "ssh-privatekey";
  public static final String LOGIN_PUBLIC = "ssh-publickey";
  /** The boot host key, which the user data carries: kept so that a repeated launch has the same user data. */
  public static final String HOST_PRIVATE = "host-privatekey";
  /** The host key the instance presents now: the boot key's until it is replaced. */
  public static final String HOST_PUBLIC = "host-publickey";
  /**
   * The public half of the replacement host key the instance made, while it is being installed; gone once the instance
   * presented it. Its private half never leaves the instance.
   */
  public static final String PENDING_HOST_PUBLIC = "host-publickey-pending";
  /** The launch number the boot host key was made for (absent: the first). */
  public static final String LAUNCH = "launch";

  /**
   * What the Secret holds; toString never shows a private key.
   *
   * @param host the boot host key pair, which the user data carries
   * @param hostPrivatePem its private half as the user data writes it
   * @param expectedHost the host key to expect now
   * @param pendingHost the public half of the replacement being installed, or null
   */
  record Keys(String secretName, KeyPair login, KeyPair host, String hostPrivatePem, PublicKey expectedHost, PublicKey pendingHost) {
    /** Keys as they are before the launch: the instance will present the boot key. */
    Keys(String secretName, KeyPair login, KeyPair host, String hostPrivatePem) {
      this(secretName, login, host, hostPrivatePem, host.getPublic(), null);
    }

    String loginPublicLine() {
      return SshKeys.publicLine(login.getPublic());
    }

    String hostPublicLine() {
      return SshKeys.publicLine(host.getPublic());
    }

    /** True once the instance presents a key of its own, no longer the one the user data carried. */
    boolean hostKeyReplaced() {
      return !KeyUtils.compareKeys(expectedHost, host.getPublic());
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

  /**
   * The keys for launch number {@code launch} of the job: the first launch's as generated; a later launch (a new instance after a
   * spot interruption) gets a new boot host key, expected until that instance replaces it in turn. The key the earlier instance
   * was given (readable there from its user data) and the key it made are never trusted again. Recorded before the launch, so a
   * repeated launch carries the same user data.
   */
  Keys forLaunch(TrainingJob job, int launch) throws Exception {
    Keys keys = ensure(job);
    Secret secret = existingSecret(job);
    String recorded = secret.getData().get(LAUNCH) == null ? "1"
        : new String(Base64.getDecoder().decode(secret.getData().get(LAUNCH)), StandardCharsets.UTF_8).strip();
    if (recorded.equals(Integer.toString(launch))) {
      return keys;
    }
    KeyPair host = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    secret.getData().put(HOST_PRIVATE, b64(SshKeys.privateText(host, "host")));
    secret.getData().put(HOST_PUBLIC, b64(SshKeys.publicLine(host.getPublic()) + "\n"));
    secret.getData().remove(PENDING_HOST_PUBLIC);
    secret.getData().put(LAUNCH, b64(Integer.toString(launch)));
    secret = client.secrets().inNamespace(job.getMetadata().getNamespace()).resource(secret).update();
    return remember(job, secret);
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

  /**
   * Records the replacement host key the instance staged as pending, before anything installs it: from then on a
   * connection accepts either key, so an operator that dies while it is installed still connects.
   */
  Keys stagePendingHostKey(TrainingJob job, PublicKey next) throws Exception {
    Secret secret = existingSecret(job);
    secret.getData().put(PENDING_HOST_PUBLIC, b64(SshKeys.publicLine(next) + "\n"));
    // optimistic: the resourceVersion read above must still be current, or the write is refused and retried
    secret = client.secrets().inNamespace(job.getMetadata().getNamespace()).resource(secret).update();
    return remember(job, secret);
  }

  /** The instance has the pending key neither staged nor in place (it lost it): forget it, and stage again. */
  Keys forgetPendingHostKey(TrainingJob job) throws Exception {
    Secret secret = existingSecret(job);
    if (has(secret, PENDING_HOST_PUBLIC)) {
      secret.getData().remove(PENDING_HOST_PUBLIC);
      secret = client.secrets().inNamespace(job.getMetadata().getNamespace()).resource(secret).update();
    }
    return remember(job, secret);
  }

  /** The instance presented the pending key: it is the one to expect from now on. */
  Keys promotePendingHostKey(TrainingJob job) throws Exception {
    Secret secret = existingSecret(job);
    if (has(secret, PENDING_HOST_PUBLIC)) {
      secret.getData().put(HOST_PUBLIC, secret.getData().get(PENDING_HOST_PUBLIC));
      secret.getData().remove(PENDING_HOST_PUBLIC);
      secret = client.secrets().inNamespace(job.getMetadata().getNamespace()).resource(secret).update();
    }
    return remember(job, secret);
  }

  private Secret existingSecret(TrainingJob job) {
    Secret secret = read(job);
    if (secret == null) {
      throw new IllegalStateException("the job's key Secret " + job.getMetadata().getNamespace() + "/" + secretName(job)
          + " is missing; the instance cannot be reached without it");
    }
    if (secret.getData() == null) {
      secret.setData(new LinkedHashMap<>());
    }
    return secret;
  }

  private Keys remember(TrainingJob job, Secret secret) throws Exception {
    Keys keys = parse(secret);
    cache.put(job.getMetadata().getUid(), keys);
    return keys;
  }

  private static boolean has(Secret secret, String key) {
    return secret.getData() != null && secret.getData().containsKey(key);
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
    KeyPair host = load(name, hostPem);
    PublicKey expected = SshKeys.publicKey(Secrets.value(secret, HOST_PUBLIC));
    PublicKey pending = has(secret, PENDING_HOST_PUBLIC) ? SshKeys.publicKey(Secrets.value(secret, PENDING_HOST_PUBLIC)) : null;
    return new Keys(name, load(name, Secrets.value(secret, LOGIN_PRIVATE)), host, hostPem, expected, pending);
  }

  private static KeyPair load(String secretName, String pem) throws Exception {
    return SshKeys.privateKey(pem, "Secret " + secretName);
  }

  private static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
