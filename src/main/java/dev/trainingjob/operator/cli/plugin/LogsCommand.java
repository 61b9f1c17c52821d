package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.kube.Secrets;
import dev.trainingjob.operator.redact.RedactingOutputStream;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.trainingjob.operator.api.TrainingJob;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "logs", mixinStandardHelpOptions = true, description = "Prints the script's output (output.log on its machine), "
    + "with secrets masked as in status.logTail.")
public final class LogsCommand extends MachineVerb {
  /** How often -f asks the API whether the job has ended. */
  static final Duration LOOK = Duration.ofSeconds(1);
  /** How long -f goes on after the job ended: tail -F reads the file once a second, so its last lines arrive. */
  static final Duration LAST_LINES = Duration.ofSeconds(2);

  @Option(names = {"-f", "--follow"}, description = "Keep printing what the script writes, until the job ends (or interrupted).")
  boolean follow;

  @Override
  int run(KubernetesClient client, JobAccess.Machine machine) throws Exception {
    // the values of the Secrets the job names, where this user may read them; the shapes of credentials are masked regardless
    var job = machine.job().getMetadata();
    BooleanSupplier going = whileRunning(client, job.getNamespace(), job.getName());
    stream(machine, Secrets.valuesNamedBy(client, machine.job()), follow, System.out,
        () -> !Thread.currentThread().isInterrupted() && going.getAsBoolean());
    return 0;
  }

  /**
   * True until the job has been in a final phase (or gone) for {@link #LAST_LINES}: -f ends with the job, its last lines
   * printed. The API is asked at most once per {@link #LOOK}.
   */
  public static BooleanSupplier whileRunning(KubernetesClient client, String namespace, String name) {
    Instant[] nextLook = {Instant.now()};
    Instant[] endedAt = {null};
    return () -> {
      Instant now = Instant.now();
      if (endedAt[0] == null && !now.isBefore(nextLook[0])) {
        nextLook[0] = now.plus(LOOK);
        TrainingJob job = client.resources(TrainingJob.class).inNamespace(namespace).withName(name).get();
        if (job == null || job.getStatus() != null && job.getStatus().phase != null && job.getStatus().phase.isFinal()) {
          endedAt[0] = now;
        }
      }
      return endedAt[0] == null || Duration.between(endedAt[0], now).compareTo(LAST_LINES) < 0;
    };
  }

  /**
   * Streams the machine's output.log to {@code out} (the command's body; tests call it with their
   * own stream), masked line by line as status.logTail is: the same output shown here and in status
   * hides the same secrets.
   */
  public static void stream(JobAccess.Machine machine, Collection<String> secretValues, boolean follow, OutputStream out,
      BooleanSupplier keepGoing) throws Exception {
    RedactingOutputStream masked = new RedactingOutputStream(out, secretValues);
    try (var ssh = JobAccess.ssh()) {
      ssh.connect(machine.target()).streamLog(machine.ref(), follow, masked, keepGoing);
    } finally {
      masked.finish();
    }
  }
}
