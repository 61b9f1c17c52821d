package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;
import java.util.Map;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ScriptSpec {
  @Required
  @Size(min = 1)
  @Pattern("^[^/].*$")
  @JsonPropertyDescription("The file to run with Python, relative to the job's files (for example train.py or src/train.py).")
  public String entrypoint;

  @JsonPropertyDescription("Arguments passed to the script, each exactly as written: nothing in them is interpreted by a shell.")
  public List<String> args;

  @JsonPropertyDescription("The job's files written inline: file name (a relative path) to file content.")
  public Map<String, String> inline;

  @JsonPropertyDescription("Name of a ConfigMap in the job's namespace; each of its keys becomes a file of that name.")
  public String configMap;

  @JsonPropertyDescription("A git repository cloned on the machine as the job's files.")
  public GitSource git;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class GitSource {
    @Required
    @Size(min = 1)
    @JsonPropertyDescription("The repository URL (https://, ssh:// or git@host:path).")
    public String url;

    @JsonPropertyDescription("The branch, tag or commit to check out; the repository's default branch when empty.")
    public String ref;
  }
}
