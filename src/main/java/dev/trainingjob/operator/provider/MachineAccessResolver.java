package dev.trainingjob.operator.provider;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.remote.MachineAccess;

/**
 * How one provider's jobs are reached: the address, port and user, the login key, the host key to
 * expect, and the attach command, from one place. The operator's providers use theirs; the kubectl
 * plugin builds the same one from a KubernetesClient (and, for local jobs, the operator's working
 * root), so the two can never reach a machine differently.
 */
public interface MachineAccessResolver {
  /** How to reach the job's machine now; {@code instance} is what status knows of it (null when nothing yet). */
  MachineAccess access(TrainingJob job, InstanceStatus instance) throws Exception;
}
