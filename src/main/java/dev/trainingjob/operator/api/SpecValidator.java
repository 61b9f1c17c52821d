package dev.trainingjob.operator.api;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a spec before anything acts on it. The CRD schema says the same where it can, and its CEL
 * rules ({@link CelRules}) the cross-field ones, but the API server may not enforce them (an old CRD,
 * a mock, the demo's embedded API), and some rules (paths, CIDRs) are beyond a schema.
 */
public final class SpecValidator {
  /** What the driver sets for the script: the script's contract and the job's process marker. */
  public static final Set<String> RESERVED_ENV = Set.of("TRAININGJOB_JOB_DIR", "TRAININGJOB_PROGRESS_FILE", "TRAININGJOB_OUTPUT_DIR",
      "TRAININGJOB_CHECKPOINT_DIR", "TRAININGJOB_ATTEMPT", "TRAININGJOB_RESUMED", "TRAININGJOB_INTERRUPT_FILE");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern BOOTSTRAP = Pattern.compile("system|venv|conda");
  private static final Pattern CIDR = Pattern.compile("([0-9a-fA-F:.]+)/([0-9]{1,3})");
  /** The user info of a URL: scheme://USERINFO@host, up to the first '/'. */
  private static final Pattern URL_USER_INFO = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/@]*)@");
  private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** SSH, on every machine: the operator opens it itself, to its own CIDRs only. */
  public static final int SSH_PORT = 22;

  /** One thing wrong with a spec: the field's path and what is wrong with it. */
  public record Violation(String field, String problem) {
    @Override
    public String toString() {
      return field + ": " + problem;
    }
  }

  private SpecValidator() {}

  public static List<Violation> validate(TrainingJobSpec spec) {
    List<Violation> out = new ArrayList<>();
    if (spec == null) {
      out.add(new Violation("spec", "is missing"));
      return out;
    }
    if (spec.unreadable != null) {
      // the message names the field already ("spec.compute.gcp: ...")
      int colon = spec.unreadable.indexOf(": ");
      out.add(colon > 0 ? new Violation(spec.unreadable.substring(0, colon), spec.unreadable.substring(colon + 2))
          : new Violation("spec", spec.unreadable));
      return out;
    }
    script(spec.script, out);
    python(spec.python, out);
    compute(spec.compute, out);
    env(spec.env, out);
    output(spec.output, out);
    access(spec.access, out);
    checkpoint(spec.checkpoint, out);
    retry(spec.retry, out);
    if (spec.limits != null) {
      seconds("spec.limits.maxRuntimeSeconds", spec.limits.maxRuntimeSeconds, out);
      seconds("spec.limits.maxPendingSeconds", spec.limits.maxPendingSeconds, out);
      var keep = spec.limits.keepAfterFailureSeconds;
      if (keep != null && (keep < 0 || keep > LimitsSpec.MAX_SECONDS)) {
        out.add(new Violation("spec.limits.keepAfterFailureSeconds", "must be between 0 and " + LimitsSpec.MAX_SECONDS
            + " (28 days), got " + keep));
      }
    }
    return out;
  }

  private static void checkpoint(CheckpointSpec checkpoint, List<Violation> out) {
    if (checkpoint == null) {
      return;
    }
    if (checkpoint.path != null) {
      String problem = relativePathProblem(checkpoint.path);
      if (problem == null && List.of(checkpoint.path.replaceAll("/+$", "").split("/")).contains(".")) {
        // the directory kept across attempts and runs: "." would be all the job's files
        problem = "must name a directory under the job's files, without '.' parts, got " + checkpoint.path;
      }
      if (problem != null) {
        out.add(new Violation("spec.checkpoint.path", problem));
      }
    }
    if (checkpoint.s3Uri != null && !checkpoint.s3Uri.matches("s3://[^/\\s]+(/\\S*)?")) {
      out.add(new Violation("spec.checkpoint.s3Uri", "must look like s3://bucket/prefix, got " + checkpoint.s3Uri));
    }
    var interval = checkpoint.syncIntervalSeconds;
    if (interval != null && (interval < CheckpointSpec.MIN_SYNC_INTERVAL_SECONDS || interval > LimitsSpec.MAX_SECONDS)) {
      out.add(new Violation("spec.checkpoint.syncIntervalSeconds", "must be between " + CheckpointSpec.MIN_SYNC_INTERVAL_SECONDS
          + " and " + LimitsSpec.MAX_SECONDS + ", got " + interval));
    }
  }

  private static void retry(RetrySpec retry, List<Violation> out) {
    if (retry == null) {
      return;
    }
    if (retry.maxRetries != null && (retry.maxRetries < 0 || retry.maxRetries > RetrySpec.MAX_RETRIES)) {
      out.add(new Violation("spec.retry.maxRetries", "must be between 0 and " + RetrySpec.MAX_RETRIES + ", got " + retry.maxRetries));
    }
    if (retry.onExitCodes != null) {
      for (int i = 0; i < retry.onExitCodes.size(); i++) {
        Integer code = retry.onExitCodes.get(i);
        if (code == null || code < 1 || code > 255) {
          out.add(new Violation("spec.retry.onExitCodes[" + i + "]", "must be an exit code between 1 and 255, got " + code));
        }
      }
    }
    var backoff = retry.backoffSeconds;
    if (backoff != null && (backoff < 0 || backoff > RetrySpec.MAX_BACKOFF_SECONDS)) {
      out.add(new Violation("spec.retry.backoffSeconds", "must be between 0 and " + RetrySpec.MAX_BACKOFF_SECONDS + ", got " + backoff));
    }
  }

  /** A duration limit: at least a second, at most 28 days (beyond that, deadlines overflow and nothing ends). */
  private static void seconds(String field, Long value, List<Violation> out) {
    if (value != null && (value < 1 || value > LimitsSpec.MAX_SECONDS)) {
      out.add(new Violation(field, "must be between 1 and " + LimitsSpec.MAX_SECONDS + " (28 days), got " + value));
    }
  }

  private static void script(ScriptSpec script, List<Violation> out) {
    if (script == null) {
      out.add(new Violation("spec.script", "is missing"));
      return;
    }
    String entryProblem = relativePathProblem(script.entrypoint);
    if (entryProblem != null) {
      out.add(new Violation("spec.script.entrypoint", entryProblem));
    }
    if (script.inline != null) {
      for (String name : script.inline.keySet()) {
        String problem = fileNameProblem(name);
        if (problem != null) {
          out.add(new Violation("spec.script.inline[" + name + "]", "file name " + problem));
        }
      }
    }
    noNul("spec.script.args", script.args, out);
    boolean onlyInline = script.configMap == null && script.git == null;
    if (onlyInline && script.inline == null) {
      out.add(new Violation("spec.script", "names no files: give spec.script.inline, configMap or git"));
    } else if (entryProblem == null && onlyInline) {
      Map<String, String> files = script.inline == null ? Map.of() : script.inline;
      if (!files.containsKey(normalize(script.entrypoint))) {
        out.add(new Violation("spec.script.entrypoint", "names " + script.entrypoint
            + ", which is not among the files in spec.script.inline " + files.keySet()));
      }
    }
    if (script.configMap != null && script.configMap.isBlank()) {
      out.add(new Violation("spec.script.configMap", "must name a ConfigMap"));
    }
    if (script.git != null) {
      if (script.git.url == null || script.git.url.isBlank()) {
        out.add(new Violation("spec.script.git.url", "is required"));
      } else if (!script.git.url.matches("(https?|ssh|git|file)://\\S+|[\\w.-]+@[\\w.-]+:\\S+")) {
        out.add(new Violation("spec.script.git.url", "must be an https://, ssh://, git:// or user@host:path URL"));
      } else {
        gitCredentials(script.git, out);
      }
      // a ref starting with '-' would be read by git as an option
      if (script.git.ref != null && (script.git.ref.startsWith("-") || script.git.ref.chars().anyMatch(Character::isWhitespace))) {
        out.add(new Violation("spec.script.git.ref", "must be a branch, tag or commit (no leading '-', no spaces)"));
      }
    }
  }

  /**
   * Credentials never travel in the URL: a URL lands in the machine's process list while git runs,
   * and in messages and Events when the clone fails. They come from credentialsSecret, and only
   * over a transport that encrypts them.
   */
  private static void gitCredentials(ScriptSpec.GitSource git, List<Violation> out) {
    var userInfo = URL_USER_INFO.matcher(git.url);
    if (userInfo.find()) {
      String scheme = userInfo.group(1).toLowerCase(java.util.Locale.ROOT);
      // ssh://git@host/... names a user and nothing secret; an http(s) user name is half of a credential, and user:secret always is
      if (userInfo.group(2).contains(":") || scheme.startsWith("http")) {
        out.add(new Violation("spec.script.git.url", "must not carry credentials (user:token@ or token@): "
            + "put them in a Secret and name it in spec.script.git.credentialsSecret (keys token and username)"));
      }
    }
    if (git.credentialsSecret == null) {
      return;
    }
    if (!DNS_SUBDOMAIN.matcher(git.credentialsSecret).matches()) {
      out.add(new Violation("spec.script.git.credentialsSecret", "must be the name of a Secret, got " + git.credentialsSecret));
    } else if (git.url.startsWith("http://")) {
      out.add(new Violation("spec.script.git.credentialsSecret", "would be sent unencrypted to an http:// URL; use https://"));
    } else if (git.url.startsWith("git://") || git.url.startsWith("file://")) {
      out.add(new Violation("spec.script.git.credentialsSecret", "does not apply to a git:// or file:// URL, which takes no credentials"));
    }
  }

  private static void python(PythonSpec python, List<Violation> out) {
    if (python == null) {
      return;
    }
    if (python.bootstrap != null && !BOOTSTRAP.matcher(python.bootstrap).matches()) {
      out.add(new Violation("spec.python.bootstrap", "must be one of system, venv, conda; got " + python.bootstrap));
    }
    if (python.condaPackages != null && !python.condaPackages.isEmpty() && !PythonSpec.CONDA.equals(PythonSpec.bootstrapOf(python))) {
      out.add(new Violation("spec.python.condaPackages", "needs spec.python.bootstrap: conda"));
    }
    if (python.version != null && !python.version.matches("[0-9]+(\\.[0-9]+){0,2}")) {
      out.add(new Violation("spec.python.version", "must be a version such as 3.11, got " + python.version));
    }
    checkNoOptions("spec.python.requirements", python.requirements, out);
    checkNoOptions("spec.python.condaPackages", python.condaPackages, out);
  }

  /** Package specifiers reach pip and conda as arguments: one starting with '-' would be an option. */
  private static void checkNoOptions(String field, List<String> items, List<Violation> out) {
    if (items == null) {
      return;
    }
    for (int i = 0; i < items.size(); i++) {
      String item = items.get(i);
      if (item == null || item.isBlank() || item.startsWith("-") || item.contains("\n") || item.contains("\r") || item.indexOf('\0') >= 0) {
        out.add(new Violation(field + "[" + i + "]", "must be one package specifier: not empty, not starting with '-', no line breaks or NUL"));
      }
    }
  }

  private static void compute(ComputeSpec compute, List<Violation> out) {
    if (compute == null) {
      return;
    }
    List<String> named = compute.named();
    if (named.size() > 1) {
      out.add(new Violation("spec.compute", "names more than one provider " + named + "; choose one"));
    } else if (named.isEmpty()) {
      out.add(new Violation("spec.compute", "names no provider: name one of ec2, host or local, "
          + "or leave spec.compute out for the operator's default provider"));
    }
    if (compute.ec2 != null) {
      ComputeSpec.Ec2Spec ec2 = compute.ec2;
      if (ec2.instanceType == null || ec2.instanceType.isBlank()) {
        out.add(new Violation("spec.compute.ec2.instanceType", "is required"));
      }
      if (ec2.sshUser != null && !ec2.sshUser.matches("[a-z_][a-z0-9_-]{0,31}")) {
        out.add(new Violation("spec.compute.ec2.sshUser", "must be a Linux user name (lower case letters, digits, _ and -), got " + ec2.sshUser));
      }
      if (ec2.maxInterruptions != null && (ec2.maxInterruptions < 0 || ec2.maxInterruptions > 100)) {
        out.add(new Violation("spec.compute.ec2.maxInterruptions", "must be between 0 and 100, got " + ec2.maxInterruptions));
      }
      if (ec2.volumeSizeGiB != null && ec2.volumeSizeGiB < 8) {
        out.add(new Violation("spec.compute.ec2.volumeSizeGiB", "must be at least 8, got " + ec2.volumeSizeGiB));
      }
    }
    if (compute.host != null) {
      ComputeSpec.HostSpec host = compute.host;
      required("spec.compute.host.address", host.address, out);
      required("spec.compute.host.user", host.user, out);
      // both end up as words of ssh's command line (status.attachCommand, the plugin's attach): a leading '-' would be an option
      if (host.user != null && !host.user.isBlank() && !host.user.matches("[A-Za-z0-9_][A-Za-z0-9._-]{0,31}")) {
        out.add(new Violation("spec.compute.host.user", "must be a user name (letters, digits, '.', '_', '-', not first), got " + host.user));
      }
      if (host.address != null && !host.address.isBlank() && !host.address.matches("[A-Za-z0-9_:\\[\\]][A-Za-z0-9._:\\[\\]-]*")) {
        out.add(new Violation("spec.compute.host.address", "must be a host name or an IP address, got " + host.address));
      }
      required("spec.compute.host.privateKeySecret", host.privateKeySecret, out);
      required("spec.compute.host.hostKey", host.hostKey, out);
      if (host.port != null && (host.port < 1 || host.port > 65535)) {
        out.add(new Violation("spec.compute.host.port", "must be between 1 and 65535, got " + host.port));
      }
      if (host.hostKey != null && !host.hostKey.isBlank() && !host.hostKey.trim().matches("(ssh-|ecdsa-)\\S+ [A-Za-z0-9+/=]+( .*)?")) {
        out.add(new Violation("spec.compute.host.hostKey", "must be a public key as in known_hosts, for example ssh-ed25519 AAAA..."));
      }
    }
  }

  private static void env(List<EnvVarSpec> env, List<Violation> out) {
    if (env == null) {
      return;
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < env.size(); i++) {
      EnvVarSpec var = env.get(i);
      String at = "spec.env[" + i + "]";
      if (var == null || var.name == null || !ENV_NAME.matcher(var.name).matches()) {
        out.add(new Violation(at + ".name", "must be a valid identifier (letters, digits, _; not starting with a digit), got "
            + (var == null ? null : var.name)));
        continue;
      }
      if (RESERVED_ENV.contains(var.name)) {
        // the operator's contract with the script, and the marker that finds the job's processes at release
        out.add(new Violation(at + ".name", var.name + " is set by the operator; choose another name"));
      }
      if (!seen.add(var.name)) {
        out.add(new Violation(at + ".name", var.name + " is set twice"));
      }
      if (var.value != null && var.value.indexOf('\0') >= 0) {
        // the environment reaches the machine as NUL-separated entries: a NUL would split this one in two
        out.add(new Violation(at + ".value", "must not contain a NUL character"));
      }
      boolean fromSecret = var.valueFrom != null;
      if (fromSecret && var.value != null) {
        out.add(new Violation(at, "sets both value and valueFrom; choose one"));
      }
      if (fromSecret) {
        EnvVarSpec.SecretKeyRef ref = var.valueFrom.secretKeyRef;
        if (ref == null || ref.name == null || ref.name.isBlank() || ref.key == null || ref.key.isBlank()) {
          out.add(new Violation(at + ".valueFrom.secretKeyRef", "needs the Secret's name and key"));
        }
      }
    }
  }

  private static void output(OutputSpec output, List<Violation> out) {
    if (output == null) {
      return;
    }
    if (output.paths != null) {
      for (int i = 0; i < output.paths.size(); i++) {
        String problem = relativePathProblem(output.paths.get(i));
        if (problem != null) {
          out.add(new Violation("spec.output.paths[" + i + "]", problem));
        }
      }
    }
    if (output.s3Uri != null && !output.s3Uri.matches("s3://[^/\\s]+(/\\S*)?")) {
      out.add(new Violation("spec.output.s3Uri", "must look like s3://bucket/prefix, got " + output.s3Uri));
    }
  }

  private static void access(AccessSpec access, List<Violation> out) {
    if (access == null) {
      return;
    }
    if (access.ports != null) {
      for (int i = 0; i < access.ports.size(); i++) {
        Integer port = access.ports.get(i);
        if (port == null || port < 1 || port > 65535) {
          out.add(new Violation("spec.access.ports[" + i + "]", "must be between 1 and 65535, got " + port));
        } else if (port == SSH_PORT) {
          out.add(new Violation("spec.access.ports[" + i + "]", sshPortProblem(port)));
        }
      }
    }
    if (access.allowedCidrs != null) {
      for (int i = 0; i < access.allowedCidrs.size(); i++) {
        String cidr = access.allowedCidrs.get(i);
        if (!isCidr(cidr)) {
          out.add(new Violation("spec.access.allowedCidrs[" + i + "]", "is not a CIDR such as 203.0.113.0/24: " + cidr));
        }
      }
    }
    boolean ports = access.ports != null && !access.ports.isEmpty();
    boolean cidrs = access.allowedCidrs != null && !access.allowedCidrs.isEmpty();
    if (ports && !cidrs) {
      out.add(new Violation("spec.access.allowedCidrs", "must name who may reach spec.access.ports; nothing is opened to the world by default"));
    }
    if (cidrs && !ports) {
      out.add(new Violation("spec.access.allowedCidrs", "needs spec.access.ports: it names who may reach those ports, and opens nothing by itself"));
    }
  }

  /**
   * Why spec.access.ports may not name the SSH port: beside the operator's own narrow rule, it would
   * open SSH to whoever allowedCidrs names (0.0.0.0/0 included). A provider whose machines listen
   * for SSH elsewhere refuses that port with the same words.
   */
  public static String sshPortProblem(int port) {
    return "names the SSH port " + port + ", which the operator opens itself to its own addresses only; "
        + "to reach the machine use kubectl trainingjob attach or tunnel, which go through that connection";
  }

  /** True for an IPv4 or IPv6 address with a prefix length that fits it. */
  public static boolean isCidr(String cidr) {
    if (cidr == null) {
      return false;
    }
    var m = CIDR.matcher(cidr.trim());
    if (!m.matches()) {
      return false;
    }
    String address = m.group(1);
    boolean v4 = address.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    boolean v6 = address.contains(":");
    if (!v4 && !v6) {
      return false;
    }
    if (v4) {
      for (String octet : address.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          return false;
        }
      }
    }
    try {
      // a literal address only: InetAddress does no lookup for these
      InetAddress.getByName(address);
    } catch (Exception e) {
      return false;
    }
    int prefix = Integer.parseInt(m.group(2));
    return prefix <= (v4 ? 32 : 128);
  }

  /** Why a user-given path cannot be a file inside the job directory, or null when it can. */
  static String relativePathProblem(String path) {
    if (path == null || path.isBlank()) {
      return "is empty";
    }
    if (path.startsWith("/") || path.startsWith("~")) {
      return "must be relative to the job's files, got " + path;
    }
    if (path.indexOf('\0') >= 0 || path.indexOf('\\') >= 0 || path.chars().anyMatch(c -> c < 0x20)) {
      return "contains a control character or backslash";
    }
    for (String part : path.split("/")) {
      if (part.equals("..")) {
        return "must not contain '..', got " + path;
      }
    }
    return null;
  }

  /** An inline file's name must name a file: a relative path whose every part is a name ("." and "sub/" are not). */
  static String fileNameProblem(String name) {
    String problem = relativePathProblem(name);
    if (problem != null) {
      return problem;
    }
    for (String part : normalize(name).split("/", -1)) {
      if (part.isEmpty() || part.equals(".")) {
        return "must name a file (no empty or '.' parts, no trailing '/'), got " + name;
      }
    }
    return null;
  }

  /** Arguments reach the machine as NUL-separated entries: a NUL would split one in two. */
  private static void noNul(String field, List<String> items, List<Violation> out) {
    if (items == null) {
      return;
    }
    for (int i = 0; i < items.size(); i++) {
      if (items.get(i) == null || items.get(i).indexOf('\0') >= 0) {
        out.add(new Violation(field + "[" + i + "]", "must be text without a NUL character"));
      }
    }
  }

  private static String normalize(String path) {
    return path.startsWith("./") ? path.substring(2) : path;
  }

  private static void required(String field, String value, List<Violation> out) {
    if (value == null || value.isBlank()) {
      out.add(new Violation(field, "is required"));
    }
  }
}
