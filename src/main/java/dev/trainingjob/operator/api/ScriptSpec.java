package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
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

  @ValidationRule(value = CelRules.GIT_NO_CREDENTIALS_IN_URL, message = CelRules.GIT_NO_CREDENTIALS_IN_URL_MESSAGE, fieldPath = ".url",
      reason = CelRules.FORBIDDEN)
  @ValidationRule(value = CelRules.GIT_CREDENTIALS_ENCRYPTED, message = CelRules.GIT_CREDENTIALS_ENCRYPTED_MESSAGE,
      fieldPath = ".credentialsSecret", reason = CelRules.FORBIDDEN)
  @ValidationRule(value = CelRules.GIT_REF_NOT_OPTION, message = CelRules.GIT_REF_NOT_OPTION_MESSAGE, fieldPath = ".ref")
  @JsonPropertyDescription("A git repository cloned on the machine as the job's files.")
  public GitSource git;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class GitSource {
    /** The credentialsSecret key of an https token, and of the user name that goes with it. */
    public static final String TOKEN_KEY = "token";
    public static final String USERNAME_KEY = "username";
    /** The credentialsSecret key of an SSH deploy key (as in a kubernetes.io/ssh-auth Secret), and of its known_hosts lines. */
    public static final String SSH_KEY = "ssh-privatekey";
    public static final String KNOWN_HOSTS_KEY = "known_hosts";
    /** git's scp-like syntax for SSH: user@host:path. */
    public static final java.util.regex.Pattern SCP_LIKE = java.util.regex.Pattern.compile("[\\w.-]+@[\\w.-]+:\\S+");

    @Required
    @Size(min = 1, max = CelRules.MAX_GIT_URL)
    @JsonPropertyDescription("The repository URL (https://, ssh:// or git@host:path), without credentials in it: "
        + "those go in credentialsSecret.")
    public String url;

    @Size(max = CelRules.MAX_GIT_REF)
    @JsonPropertyDescription("The branch, tag or commit to check out; the repository's default branch when empty.")
    public String ref;

    @JsonPropertyDescription("Name of a Secret in the job's namespace with the credentials to clone with. For an https:// URL "
        + "its key token (a personal access or deploy token), and optionally username (x-access-token when not given); "
        + "for ssh:// or user@host:path its key ssh-privatekey (an unencrypted deploy key), and optionally known_hosts "
        + "(the server's host keys; without it, only hosts the machine already knows are trusted). They reach git through "
        + "files only the job's user can read, removed after the clone, never through the URL or a command line.")
    public String credentialsSecret;

    /** Whether git reaches the repository over SSH (ssh:// or the scp-like user@host:path), so a deploy key rather than a token applies. */
    public static boolean overSsh(String url) {
      return url != null && (url.startsWith("ssh://") || SCP_LIKE.matcher(url).matches());
    }

    /** The key of credentialsSecret that a clone of {@code url} needs. */
    public static String credentialKey(String url) {
      return overSsh(url) ? SSH_KEY : TOKEN_KEY;
    }
  }
}
