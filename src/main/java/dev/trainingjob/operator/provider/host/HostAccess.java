package dev.trainingjob.operator.provider.host;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.kube.Secrets;
import dev.trainingjob.operator.provider.MachineAccessResolver;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a host job's machine is reached: everything from the spec (address, port, user, host key),
 * the login key from the Secret it names. The person attaching uses their own key to that machine.
 */
public final class HostAccess implements MachineAccessResolver {
  /** The key of kubernetes.io/ssh-auth Secrets. */
  public static final String KEY_FIELD = "ssh-privatekey";

  private final KubernetesClient client;
  /** The login key per job uid: read from its Secret once, not on every probe. */
  private final Map<String, KeyPair> loginKeys = new ConcurrentHashMap<>();

  public HostAccess(KubernetesClient client) {
    this.client = client;
  }

  static int port(ComputeSpec.HostSpec h) {
    return h.port == null ? 22 : h.port;
  }

  @Override
  public MachineAccess access(TrainingJob job, InstanceStatus instance) throws Exception {
    ComputeSpec.HostSpec h = job.admittedCompute().host;
    KeyPair key = loginKeys.get(job.getMetadata().getUid());
    if (key == null) {
      key = loginKey(job, h);
      loginKeys.put(job.getMetadata().getUid(), key);
    }
    return MachineAccess.of(new SshTarget(h.address, port(h), h.user, key, hostKey(h), false), JobRef.of(job),
        MachineAccess.KeyHint.own());
  }

  void forget(TrainingJob job) {
    loginKeys.remove(job.getMetadata().getUid());
  }

  private KeyPair loginKey(TrainingJob job, ComputeSpec.HostSpec h) {
    String ns = job.getMetadata().getNamespace();
    String pem;
    try {
      pem = Secrets.value(client, ns, h.privateKeySecret, KEY_FIELD);
    } catch (Secrets.Unavailable e) {
      // admission waited for the Secret and its key; gone since, retrying cannot bring them back
      throw new JobFailure(Reason.InvalidSecret, e.getMessage() + " (spec.compute.host.privateKeySecret)");
    }
    try {
      return SshKeys.privateKey(pem, h.privateKeySecret);
    } catch (IOException | GeneralSecurityException e) {
      // the message names the Secret only: never its content
      throw new JobFailure(Reason.InvalidSecret, "Secret " + ns + "/" + h.privateKeySecret + " does not hold a readable, unencrypted private key");
    }
  }

  private static PublicKey hostKey(ComputeSpec.HostSpec h) {
    try {
      return SshKeys.publicKey(h.hostKey);
    } catch (Exception e) {
      throw new JobFailure(Reason.InvalidSpec, "spec.compute.host.hostKey is not a public key this operator can read: " + e.getMessage());
    }
  }
}
