package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.ec2.JobKeys;
import dev.trainingjob.operator.provider.host.HostProvider;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.RemoteSettings;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;

/**
 * How the plugin reaches a job's machine, as the operator does: the address and user from status,
 * the login key and host key from where the job's provider keeps them (ec2: the job's NAME-ssh
 * Secret; host: the spec's Secret and host key; local: the operator's working root on this machine).
 */
public final class JobAccess {
  private JobAccess() {}

  /** What a verb needs: a job whose machine is up. */
  public record Machine(TrainingJob job, SshTarget target, JobRef ref) {}

  public static TrainingJob find(KubernetesClient client, String namespace, String name) {
    TrainingJob job = client.resources(TrainingJob.class).inNamespace(namespace).withName(name).get();
    if (job == null) {
      throw new PluginException("trainingjob " + namespace + "/" + name + " not found");
    }
    return job;
  }

  /** The job's machine, or a clear error when it has none yet or no longer. */
  public static Machine machine(KubernetesClient client, String namespace, String name, Path localWorkRoot) {
    TrainingJob job = find(client, namespace, name);
    var status = job.getStatus();
    Phase phase = status == null ? null : status.phase;
    if (phase != null && phase.isFinal()) {
      throw new PluginException(namespace + "/" + name + " has finished (" + phase + "); its machine was released"
          + (status.logTail == null ? "" : " — `kubectl describe` and status.logTail keep its last lines"));
    }
    if (status == null || status.instance == null || status.instance.address == null || status.instance.sshPort == null
        || phase == Phase.Pending || phase == Phase.Provisioning) {
      throw new PluginException(namespace + "/" + name + " has no machine yet (phase " + (phase == null ? "none" : phase)
          + "); try again once it is Running");
    }
    var instance = status.instance;
    KeyPair key;
    PublicKey hostKey;
    String type = instance.type == null ? "" : instance.type;
    try {
      if (type.equals("local")) {
        key = loadKey(Files.readString(localWorkRoot.resolve("id_operator")), "id_operator");
        hostKey = knownHostsKey(Files.readString(localWorkRoot.resolve("known_hosts")));
      } else if (type.equals("host")) {
        var spec = job.getSpec().compute.host;
        key = loadKey(secretValue(client, namespace, spec.privateKeySecret, HostProvider.KEY_FIELD), spec.privateKeySecret);
        hostKey = publicKey(spec.hostKey);
      } else {
        String secret = JobKeys.secretName(job);
        key = loadKey(secretValue(client, namespace, secret, JobKeys.LOGIN_PRIVATE), secret);
        hostKey = publicKey(secretValue(client, namespace, secret, JobKeys.HOST_PUBLIC));
      }
    } catch (IOException e) {
      throw new PluginException("cannot read the key for " + namespace + "/" + name + ": " + e.getMessage()
          + (type.equals("local") ? " (is --local-work-root the operator's?)" : ""));
    }
    return new Machine(job, new SshTarget(instance.address, instance.sshPort, instance.sshUser, key, hostKey, false), JobRef.of(job));
  }

  public static SshRemoteHosts ssh() {
    return new SshRemoteHosts(RemoteSettings.defaults());
  }

  private static String secretValue(KubernetesClient client, String namespace, String name, String key) {
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null || secret.getData() == null || !secret.getData().containsKey(key)) {
      throw new PluginException("Secret " + namespace + "/" + name + " with " + key + " is not there (or you may not read it)");
    }
    return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  private static KeyPair loadKey(String pem, String source) {
    try {
      return SshKeys.privateKey(pem, source);
    } catch (IOException | GeneralSecurityException e) {
      throw new PluginException(source + " does not hold a readable private key");
    }
  }

  private static PublicKey publicKey(String line) {
    try {
      return SshKeys.publicKey(line);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new PluginException("not a public key: " + line);
    }
  }

  private static PublicKey knownHostsKey(String line) {
    try {
      return SshKeys.knownHostsKey(line);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new PluginException("not a known_hosts line: " + line);
    }
  }
}
