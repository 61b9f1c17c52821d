package dev.trainingjob.operator.provider;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.remote.MachineDuties;
import dev.trainingjob.operator.remote.RemoteHost;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where jobs run: ec2, host or local. Every method is idempotent and safe to call again after the
 * operator was killed at any line: the provider finds what it made before by the job's uid.
 */
public interface ComputeProvider extends MachineAccessResolver {
  /** The name users write under spec.compute (ec2, host, local). */
  String name();

  /**
   * Checks, before anything is launched, what only the provider's world can tell (an image, a
   * subnet, instance types), and returns the compute spec the job will run with from now on:
   * throws JobFailure for a value that can never work, any other exception to be retried.
   */
  default ComputeSpec admit(TrainingJob job) throws Exception {
    return job.getSpec().compute;
  }

  /** Makes sure the job has a machine, launching one only if it has none. */
  Machine ensure(TrainingJob job) throws Exception;

  /** The job's machine as the provider sees it now, if it has one. */
  Optional<Machine> describe(TrainingJob job) throws Exception;

  /** What the driver does for the machine itself (shut it down at a deadline, copy outputs off it). */
  default MachineDuties duties(TrainingJob job) {
    return MachineDuties.NONE;
  }

  /**
   * Looks at each new connection to the job's machine (verified against {@link #access}) and may change how the machine
   * is reached: ec2 replaces the host key the user data carried (HostKeyRotation). True when it did; the caller then
   * lets go of its connections and connects again with what {@code access} says now.
   */
  default boolean afterConnect(TrainingJob job, RemoteHost remote) throws Exception {
    return false;
  }

  /**
   * Where outputs collected over SFTP are written on this side: all of them, or, where the machine copies them to S3
   * itself, those that copy could not save (it failed, or the operator stopped the job before it ran).
   */
  Optional<Path> outputDirectory(TrainingJob job);

  /**
   * Lets go of everything the job holds: terminates a launched instance, deletes what was created
   * for it, or stops the session on a machine that stays. True once nothing remains.
   */
  boolean release(TrainingJob job) throws Exception;

  /**
   * True when the machine is made for the job and paid for while held (ec2): a suspended job gives it back. False for machines
   * that stay (host, local): a suspended job only lets go of them, and keeps its directory there, Python and checkpoint.
   */
  default boolean machinePerJob() {
    return true;
  }
}
