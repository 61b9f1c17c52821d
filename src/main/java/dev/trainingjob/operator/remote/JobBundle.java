package dev.trainingjob.operator.remote;

import java.util.List;
import java.util.Map;

/**
 * What is uploaded for one job, with everything resolved: file contents (inline and ConfigMap),
 * environment values (Secrets included), and the settings the driver reads.
 *
 * @param env values may come from Secrets: toString leaves them out
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
    MachineDuties duties) {

  public record Python(String bootstrap, String version, List<String> requirements, List<String> condaPackages) {}

  public record Git(String url, String ref) {}

  @Override
  public String toString() {
    return "JobBundle[" + job + ", files=" + files.keySet() + ", entrypoint=" + entrypoint + ", env=" + env.keySet() + "]";
  }
}
