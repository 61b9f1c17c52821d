package dev.trainingjob.operator.provider;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.SshTarget;
import java.nio.file.Path;

/** What the providers of machines that stay (local, host) share: release and where outputs go. */
public final class ExistingMachines {
  private ExistingMachines() {}

  /** Stops the job's session and removes its directory; the machine itself stays. */
  public static void stopAndClean(RemoteHosts remoteHosts, SshTarget target, TrainingJob job) throws Exception {
    JobRef ref = JobRef.of(job);
    RemoteHost remote = remoteHosts.connect(target, ref);
    remote.stop(ref);
    remote.cleanup(ref);
  }

  /** outputs/namespace/name */
  public static Path outputDirectory(Path root, TrainingJob job) {
    return outputDirectory(root, job.getMetadata().getNamespace(), job.getMetadata().getName());
  }

  /** The same folder by the job's names (what the operator's outputs endpoint serves). */
  public static Path outputDirectory(Path root, String namespace, String name) {
    return root.resolve(namespace).resolve(name);
  }

  /**
   * When a machine that stays was "launched" for the job: not known to the provider (null), so Provisioning records when the
   * job first got it, and keeps that (the cost of a local or host machine counts from there).
   */
  public static String since(TrainingJob job) {
    return null;
  }
}
