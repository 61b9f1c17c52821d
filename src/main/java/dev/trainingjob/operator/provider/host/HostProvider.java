package dev.trainingjob.operator.provider.host;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ExistingMachines;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.remote.HostKeyMismatchException;
import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.RemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.Optional;
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
  public static final String KEY_FIELD = HostAccess.KEY_FIELD;
  private final HostAccess access;
  private final RemoteHosts remoteHosts;
  private final Path outputRoot;

  public HostProvider(KubernetesClient client, RemoteHosts remoteHosts, Path outputRoot) {
    this.access = new HostAccess(client);
    this.remoteHosts = remoteHosts;
    this.outputRoot = outputRoot.toAbsolutePath();
  }

  @Override
  public String name() {
    return "host";
  }

  private static ComputeSpec.HostSpec spec(TrainingJob job) {
    return job.admittedCompute().host;
  }

  private static Machine machine(TrainingJob job) {
    ComputeSpec.HostSpec h = spec(job);
    return new Machine(h.address + ":" + HostAccess.port(h), "host", Machine.State.RUNNING, h.address, h.user, ExistingMachines.since(job), null);
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
  public MachineAccess access(TrainingJob job, InstanceStatus instance) throws Exception {
    return access.access(job, instance);
  }

  @Override
  public boolean machinePerJob() {
    return false; // the machine stays; a suspended job keeps its directory on it
  }

  @Override
  public Optional<Path> outputDirectory(TrainingJob job) {
    return Optional.of(ExistingMachines.outputDirectory(outputRoot, job));
  }

  @Override
  public boolean release(TrainingJob job) throws Exception {
    MachineAccess machine;
    try {
      machine = access(job, null);
    } catch (JobFailure keyUnreadable) {
      if (neverConnected(job)) {
        // without a connection nothing of the job's reached the machine: nothing to stop, so the key is not needed
        LOG.info("{}: never connected to the machine; nothing to clean up there", job.ref());
        access.forget(job);
        return true;
      }
      throw keyUnreadable;
    }
    try {
      ExistingMachines.stopAndClean(remoteHosts, machine.target(), job);
    } catch (HostUnreachableException e) {
      // the machine is not ours to wait for: say so, and let the resource go
      LOG.warn("{}: could not reach {} to stop the session and clean up: {}", job.ref(), e.target(), e.getMessage());
    } catch (HostKeyMismatchException e) {
      // never talk to a machine that is not the one named; nothing of ours can have started there
      LOG.warn("{}: not cleaning up on a machine with the wrong host key: {}", job.ref(), e.getMessage());
    }
    access.forget(job);
    return true;
  }

  private static boolean neverConnected(TrainingJob job) {
    var status = job.getStatus();
    return status == null || status.timings == null || status.timings.sshReady == null;
  }
}
