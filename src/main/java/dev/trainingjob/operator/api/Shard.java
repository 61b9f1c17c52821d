package dev.trainingjob.operator.api;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which operator shard runs a job. Several operator Deployments may share a cluster, each started with {@code --shard NAME}:
 * shard NAME runs the jobs labelled {@value #LABEL}={@code NAME}, the default shard (no {@code --shard}) the jobs without the
 * label. The label is read when a shard first takes a job, and the shard writes its name to {@code status.shard} before it
 * does anything else for it: from then on that shard alone acts on the job, whatever the label says later (a relabelled
 * job is left alone by the shard it now names, so two shards never hold one machine).
 */
public final class Shard {
  /** The label that sends a job to a shard. */
  public static final String LABEL = "trainingjob.dev/shard";

  /** The shard of the jobs without {@link #LABEL}: an operator started without {@code --shard}. */
  public static final String DEFAULT = "default";

  /**
   * A DNS label, and short: it is also a label value, part of the Lease's name, and the suffix of the install's id on AWS
   * ({@code <operator-id>-<shard>}), which must stay a DNS label too.
   */
  private static final Pattern FORM = Pattern.compile("[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?");

  private Shard() {}

  /** The shard a configured value names: {@link #DEFAULT} for none, blank or "default". */
  public static String named(String configured) {
    return configured == null || configured.isBlank() ? DEFAULT : configured.strip();
  }

  public static boolean isDefault(String shard) {
    return DEFAULT.equals(named(shard));
  }

  /** Why {@code shard} cannot name a shard; empty when it can. */
  public static Optional<String> problem(String shard) {
    String name = named(shard);
    if (FORM.matcher(name).matches()) {
      return Optional.empty();
    }
    return Optional.of("shard '" + name + "' must be 1 to 30 lower-case letters, digits and '-', beginning and ending with a "
        + "letter or digit: it is the value of the label " + LABEL + ", and part of the Lease's name and of the install's id "
        + "on AWS");
  }

  /**
   * The label selector of the shard's informer: it never lists, watches or caches another shard's jobs. The default shard's
   * selects the jobs that have no {@link #LABEL} at all.
   */
  public static String labelSelector(String shard) {
    return isDefault(shard) ? "!" + LABEL : LABEL + "=" + named(shard);
  }

  /**
   * The shard that took the job: {@code status.shard}; {@link #DEFAULT} for a job an operator from before shards took (it has
   * a phase but no shard); empty for a job no shard has taken yet.
   */
  public static Optional<String> holder(TrainingJobStatus status) {
    if (status == null) {
      return Optional.empty();
    }
    if (status.shard != null) {
      return Optional.of(status.shard);
    }
    return status.phase == null ? Optional.empty() : Optional.of(DEFAULT);
  }
}
