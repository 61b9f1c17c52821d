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

  /** The machine "launched" when the job was created: stable across reconciles and restarts. */
  public static String since(TrainingJob job) {
    return job.getMetadata().getCreationTimestamp();
  }
}
