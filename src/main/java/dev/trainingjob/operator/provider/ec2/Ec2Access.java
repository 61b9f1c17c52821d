package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.MachineAccessResolver;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.SshTarget;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.security.PublicKey;

/**
 * How an EC2 job's instance is reached: the address and user from status (the instance's tags put
 * them there), the login key and the host key to expect from the job's NAME-ssh Secret (while a
 * replacement host key is pending there, either is accepted: see HostKeyRotation). The person
 * attaching fetches the login key from that Secret with their own kubectl.
 */
public final class Ec2Access implements MachineAccessResolver {
  private final JobKeys keys;
  /** The operator's SSH port setting; null where it is not known, and status's port is used. */
  private final Integer port;

  Ec2Access(JobKeys keys, Integer port) {
    this.keys = keys;
    this.port = port;
  }

  /** For a client outside the operator (the kubectl plugin): it does not know the port setting, so it takes status's. */
  public static Ec2Access fromStatus(KubernetesClient client) {
    return new Ec2Access(new JobKeys(client), null);
  }

  @Override
  public MachineAccess access(TrainingJob job, InstanceStatus instance) throws Exception {
    if (instance == null || instance.address == null) {
      throw new IllegalStateException("instance of " + job.ref() + " has no address yet");
    }
    if (instance.sshUser == null) {
      throw new IllegalStateException("instance " + instance.id + " does not say which user to log in as (tag " + Ec2Tags.SSH_USER + ")");
    }
    Integer p = port != null ? port : instance.sshPort;
    if (p == null) {
      throw new IllegalStateException("status of " + job.ref() + " does not say which SSH port instance " + instance.id + " listens on");
    }
    JobKeys.Keys k = keys.existing(job);
    String ns = job.getMetadata().getNamespace();
    PublicKey pending = k.pendingHost();
    return MachineAccess.of(new SshTarget(instance.address, p, instance.sshUser, k.login(), k.expectedHost(), false, pending),
        JobRef.of(job),
        // the host key from the Secret too (the replacement's, once made): ssh never trusts the instance on first use
        MachineAccess.secretWithHostKey(ns, JobKeys.secretName(job), JobKeys.LOGIN_PRIVATE, job.getMetadata().getName() + ".key",
            JobKeys.HOST_PUBLIC, job.getMetadata().getName() + ".known_hosts", instance.address, p));
  }
}
