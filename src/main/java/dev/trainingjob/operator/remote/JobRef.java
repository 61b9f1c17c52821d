package dev.trainingjob.operator.remote;

import dev.trainingjob.operator.api.TrainingJob;

/**
 * Names one job on a remote machine: its directory (~/.trainingjob/<uid>) and its screen session.
 */
public record JobRef(String uid, String namespace, String name) {
  static final int MAX_NAME_IN_SESSION = 40;

  public JobRef {
    // the uid becomes a directory name in remote commands: only what Kubernetes uids are made of
    if (uid == null || !uid.matches("[A-Za-z0-9-]{1,64}")) {
      throw new IllegalArgumentException("not a Kubernetes uid: " + uid);
    }
  }

  public static JobRef of(TrainingJob job) {
    return new JobRef(job.getMetadata().getUid(), job.getMetadata().getNamespace(), job.getMetadata().getName());
  }

  /** The job directory, relative to the login user's home. */
  public String directory() {
    return ".trainingjob/" + uid;
  }

  /**
   * The screen session: derived from the name, so a person can find it with screen -ls, plus a
   * short piece of the uid so two namespaces' jobs of the same name never share one.
   */
  public String sessionName() {
    String safe = name.replaceAll("[^A-Za-z0-9_.-]", "-");
    // screen names its socket <pid>.<session> in a directory whose path must fit a Unix socket
    // address (about 100 bytes): a long job name would make the session fail to start, every time
    safe = safe.substring(0, Math.min(safe.length(), MAX_NAME_IN_SESSION));
    String shortUid = uid.replace("-", "");
    return "tj-" + safe + "-" + shortUid.substring(Math.max(0, shortUid.length() - 8));
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
