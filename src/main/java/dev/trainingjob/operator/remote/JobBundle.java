package dev.trainingjob.operator.remote;

import java.util.List;
import java.util.Map;

/**
 * What is uploaded for one job, with everything resolved: file contents (inline and ConfigMap),
 * environment values (Secrets included), and the settings the driver reads.
 *
 * @param env values may come from Secrets: toString leaves them out (and the git credentials)
 */
public record JobBundle(
    JobRef job,
    Map<String, byte[]> files,
    String entrypoint,
    List<String> args,
    Map<String, String> env,
    Python python,
    Git git,
    List<String> outputPaths,
    Long maxRuntimeSeconds,
    MachineDuties duties,
    Checkpoint checkpoint) {

  public JobBundle(JobRef job, Map<String, byte[]> files, String entrypoint, List<String> args, Map<String, String> env, Python python,
      Git git, List<String> outputPaths, Long maxRuntimeSeconds, MachineDuties duties) {
    this(job, files, entrypoint, args, env, python, git, outputPaths, maxRuntimeSeconds, duties, Checkpoint.DEFAULT);
  }

  /**
   * @param path the checkpoint directory, relative to the job's files (TRAININGJOB_CHECKPOINT_DIR)
   * @param syncIntervalSeconds how often it is copied to the duties' checkpoint URI while the script runs
   */
  public record Checkpoint(String path, long syncIntervalSeconds) {
    public static final Checkpoint DEFAULT = new Checkpoint("checkpoints", 600);
  }

  public record Python(String bootstrap, String version, List<String> requirements, List<String> condaPackages) {}

  /**
   * @param credentials what to clone with, or null: read from spec.script.git.credentialsSecret
   */
  public record Git(String url, String ref, GitCredentials credentials) {}

  /**
   * Credentials for the clone, either a token (https) or a deploy key (ssh). They reach the machine
   * as files of mode 0600, never in a URL or on a command line; toString leaves them out.
   *
   * @param username the user name that goes with the token, or null for the driver's default
   * @param knownHosts known_hosts lines for the SSH server, or null to trust only what the machine knows
   */
  public record GitCredentials(String username, String token, String sshPrivateKey, String knownHosts) {
    public static GitCredentials token(String username, String token) {
      return new GitCredentials(username, token, null, null);
    }

    public static GitCredentials sshKey(String privateKey, String knownHosts) {
      return new GitCredentials(null, null, privateKey, knownHosts);
    }

    @Override
    public String toString() {
      return token != null ? "GitCredentials[token" + (username == null ? "" : " for " + username) + "]" : "GitCredentials[ssh key]";
    }
  }

  @Override
  public String toString() {
    return "JobBundle[" + job + ", files=" + files.keySet() + ", entrypoint=" + entrypoint + ", env=" + env.keySet() + "]";
  }
}
