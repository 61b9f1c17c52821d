package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.kube.Secrets;
import dev.trainingjob.operator.provider.MachineAccessResolver;
import dev.trainingjob.operator.provider.ec2.Ec2Access;
import dev.trainingjob.operator.provider.host.HostAccess;
import dev.trainingjob.operator.provider.local.LocalAccess;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.RemoteSettings;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.remote.ssh.SshRemoteHosts;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * How the plugin reaches a job's machine: through the same resolution as the operator's provider
 * (ec2: the job's NAME-ssh Secret; host: the spec's Secret and host key; local: the operator's
 * working root on this machine), picked by the provider status names.
 */
public final class JobAccess {
  private JobAccess() {}

  /** What a verb needs: a job whose machine is up. */
  public record Machine(TrainingJob job, MachineAccess access, JobRef ref) {
    public SshTarget target() {
      return access.target();
    }
  }

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
    // a failed job in its debug hold keeps its machine, with a shell in the job's session for attach
    boolean held = status != null && dev.trainingjob.operator.status.Conditions.isTrue(status,
        dev.trainingjob.operator.api.ConditionType.DEBUG_HOLD);
    if (phase != null && phase.isFinal() && !held) {
      throw new PluginException(namespace + "/" + name + " has finished (" + phase + "); its machine was released"
          + (status.logTail == null ? "" : " — `kubectl describe` and status.logTail keep its last lines"));
    }
    if (status == null || status.instance == null || status.instance.address == null || status.instance.sshPort == null
        || phase == Phase.Pending || phase == Phase.Provisioning) {
      throw new PluginException(namespace + "/" + name + " has no machine yet (phase " + (phase == null ? "none" : phase)
          + "); try again once it is Running");
    }
    // the provider recorded at admission; jobs admitted by the first release only have the machine type
    String provider = status.provider != null ? status.provider : status.instance.type;
    boolean local = "local".equals(provider);
    try {
      return new Machine(job, resolver(client, provider, localWorkRoot).access(job, status.instance), JobRef.of(job));
    } catch (Secrets.Unavailable | JobFailure | IllegalStateException e) {
      throw new PluginException("cannot reach the machine of " + namespace + "/" + name + ": " + e.getMessage());
    } catch (IOException e) {
      String why = e instanceof NoSuchFileException ? "there is no " + e.getMessage() : e.getMessage();
      throw new PluginException("cannot read the key for " + namespace + "/" + name + ": " + why
          + (local ? " (is --local-work-root the operator's?)" : ""));
    } catch (PluginException e) {
      throw e;
    } catch (Exception e) {
      throw new PluginException("cannot reach the machine of " + namespace + "/" + name + ": " + e);
    }
  }

  /** The provider's resolver, by its name (or, for older jobs, the machine type status records: an instance type means ec2). */
  private static MachineAccessResolver resolver(KubernetesClient client, String type, Path localWorkRoot) throws IOException {
    return switch (type == null ? "" : type) {
      case "local" -> LocalAccess.read(localWorkRoot);
      case "host" -> new HostAccess(client);
      default -> Ec2Access.fromStatus(client);
    };
  }

  public static SshRemoteHosts ssh() {
    return new SshRemoteHosts(RemoteSettings.defaults());
  }
}
