package dev.trainingjob.operator.provider.host;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ExistingMachines;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.remote.HostKeyMismatchException;
import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A machine that already exists (a GPU box under a desk, another cloud's VM). The login key comes
 * from a Secret, the host key from the spec and is verified. Release stops the session and cleans
 * the job directory; the machine is never shut down.
 */
public final class HostProvider implements ComputeProvider {
  private static final Logger LOG = LoggerFactory.getLogger(HostProvider.class);
  /** The key of kubernetes.io/ssh-auth Secrets. */
  public static final String KEY_FIELD = "ssh-privatekey";
  private final KubernetesClient client;
  private final RemoteHosts remoteHosts;
  private final Path outputRoot;
  /** The login key per job uid: read from its Secret once, not on every probe. */
  private final Map<String, KeyPair> loginKeys = new ConcurrentHashMap<>();

  public HostProvider(KubernetesClient client, RemoteHosts remoteHosts, Path outputRoot) {
    this.client = client;
    this.remoteHosts = remoteHosts;
    this.outputRoot = outputRoot.toAbsolutePath();
  }

  @Override
  public String name() {
    return "host";
  }

  private static ComputeSpec.HostSpec spec(TrainingJob job) {
    return job.getSpec().compute.host;
  }

  private static int port(ComputeSpec.HostSpec h) {
    return h.port == null ? 22 : h.port;
  }

  private static Machine machine(TrainingJob job) {
    ComputeSpec.HostSpec h = spec(job);
    return new Machine(h.address + ":" + port(h), "host", Machine.State.RUNNING, h.address, h.user, ExistingMachines.since(job), null);
  }

  @Override
  public Machine ensure(TrainingJob job) {
    return machine(job);
  }

  @Override
  public Optional<Machine> describe(TrainingJob job) {
    return Optional.of(machine(job));
  }

  @Override
  public SshTarget sshTarget(TrainingJob job, InstanceStatus instance) throws Exception {
    ComputeSpec.HostSpec h = spec(job);
    KeyPair key = loginKeys.get(job.getMetadata().getUid());
    if (key == null) {
      key = loginKey(job, h);
      loginKeys.put(job.getMetadata().getUid(), key);
    }
    return new SshTarget(h.address, port(h), h.user, key, hostKey(h), false);
  }

  private KeyPair loginKey(TrainingJob job, ComputeSpec.HostSpec h) throws Exception {
    String ns = job.getMetadata().getNamespace();
    Secret secret = client.secrets().inNamespace(ns).withName(h.privateKeySecret).get();
    if (secret == null) {
      throw new IllegalStateException("Secret " + ns + "/" + h.privateKeySecret + " named in spec.compute.host.privateKeySecret does not exist");
    }
    String pem = secret.getData() != null && secret.getData().containsKey(KEY_FIELD)
        ? new String(Base64.getDecoder().decode(secret.getData().get(KEY_FIELD)), StandardCharsets.UTF_8)
        : secret.getStringData() == null ? null : secret.getStringData().get(KEY_FIELD);
    if (pem == null) {
      throw new JobFailure(Reason.InvalidSecret, "Secret " + ns + "/" + h.privateKeySecret + " has no " + KEY_FIELD + " key");
    }
    try {
      return SshKeys.privateKey(pem, h.privateKeySecret);
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
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

  @Override
  public Optional<Path> outputDirectory(TrainingJob job) {
    return Optional.of(ExistingMachines.outputDirectory(outputRoot, job));
  }

  @Override
  public String attachCommand(TrainingJob job, InstanceStatus instance) {
    ComputeSpec.HostSpec h = spec(job);
    return "ssh -p " + port(h) + " " + h.user + "@" + h.address + " -t screen -r " + JobRef.of(job).sessionName();
  }

  @Override
  public boolean release(TrainingJob job) throws Exception {
    try {
      ExistingMachines.stopAndClean(remoteHosts, sshTarget(job, null), job);
    } catch (HostUnreachableException e) {
      // the machine is not ours to wait for: say so, and let the resource go
      LOG.warn("{}: could not reach {} to stop the session and clean up: {}", job.ref(), e.target(), e.getMessage());
    } catch (HostKeyMismatchException e) {
      // never talk to a machine that is not the one named; nothing of ours can have started there
      LOG.warn("{}: not cleaning up on a machine with the wrong host key: {}", job.ref(), e.getMessage());
    }
    loginKeys.remove(job.getMetadata().getUid());
    return true;
  }
}
