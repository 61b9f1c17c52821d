package dev.trainingjob.operator.api;

/**
 * The cross-field rules a real API server enforces at {@code kubectl apply}: CEL expressions the CRD
 * carries as {@code x-kubernetes-validations} (see the {@code @ValidationRule}s on {@link TrainingJobSpec}
 * and {@link ScriptSpec}). {@link SpecValidator} checks the same rules itself, for an API server that
 * evaluates no CEL (the demo's embedded one, an old cluster). Each rule's {@code self} is the object
 * the annotated field holds; absent optional fields are not {@code has()}.
 *
 * <p>Rules that iterate a list are bounded by a maxItems (and the strings they compare by a
 * maxLength), so that the API server's estimated cost of the rule stays within its limit.
 */
public final class CelRules {
  private CelRules() {}

  /** The reasons Kubernetes takes besides the default FieldValueInvalid. */
  static final String REQUIRED = "FieldValueRequired";
  static final String FORBIDDEN = "FieldValueForbidden";
  static final String DUPLICATE = "FieldValueDuplicate";

  /** At most this many entries in spec.env, at most this long a name: what the uniqueness rule may iterate. */
  public static final int MAX_ENV = 128;
  public static final int MAX_ENV_NAME = 128;
  /** At most this many spec.access.ports. */
  public static final int MAX_PORTS = 64;
  /** At most this long a git URL and ref: what the regular expressions of the git rules may read. */
  public static final int MAX_GIT_URL = 2048;
  public static final int MAX_GIT_REF = 1024;

  // spec.compute
  static final String ONE_PROVIDER = "[has(self.ec2), has(self.host), has(self.local)].filter(x, x).size() == 1";
  static final String ONE_PROVIDER_MESSAGE = "spec.compute must name exactly one provider: ec2, host or local "
      + "(leave spec.compute out for the operator's default provider)";

  // spec.script
  static final String SCRIPT_HAS_FILES = "has(self.inline) || has(self.configMap) || has(self.git)";
  static final String SCRIPT_HAS_FILES_MESSAGE = "spec.script names no files: give spec.script.inline, configMap or git";
  static final String ENTRYPOINT_INLINE = "has(self.configMap) || has(self.git) || !has(self.inline) || !has(self.entrypoint) "
      + "|| (self.entrypoint.startsWith('./') ? self.entrypoint.substring(2) : self.entrypoint) in self.inline";
  static final String ENTRYPOINT_INLINE_MESSAGE = "spec.script.entrypoint must be one of the files in spec.script.inline "
      + "when the job's files are only inline";

  // spec.script.git
  static final String GIT_NO_CREDENTIALS_IN_URL = "!has(self.url) || !self.url.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@]*@') "
      + "|| (!self.url.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@]*:[^/@]*@') && !self.url.matches('^[hH][tT][tT][pP]'))";
  static final String GIT_NO_CREDENTIALS_IN_URL_MESSAGE = "spec.script.git.url must not carry credentials (user:token@ or token@): "
      + "put them in a Secret and name it in spec.script.git.credentialsSecret (keys token and username)";
  static final String GIT_CREDENTIALS_ENCRYPTED = "!has(self.credentialsSecret) || !has(self.url) "
      + "|| !self.url.matches('^(http|git|file)://')";
  static final String GIT_CREDENTIALS_ENCRYPTED_MESSAGE = "spec.script.git.credentialsSecret applies to https:// and SSH URLs "
      + "only: over http:// the credentials would travel unencrypted, and git:// and file:// take none";

  /** A ref starting with '-' would be read by git as an option. */
  static final String GIT_REF_NOT_OPTION = "!has(self.ref) || !(self.ref.startsWith('-') || self.ref.matches('\\\\s'))";
  static final String GIT_REF_NOT_OPTION_MESSAGE = "spec.script.git.ref must be a branch, tag or commit (no leading '-', no spaces)";

  // spec.python
  static final String CONDA_PACKAGES = "!has(self.condaPackages) || size(self.condaPackages) == 0 "
      + "|| (has(self.bootstrap) && self.bootstrap == 'conda')";
  static final String CONDA_PACKAGES_MESSAGE = "spec.python.condaPackages needs spec.python.bootstrap: conda";

  // spec.env
  static final String ENV_VALUE_OR_SECRET = "self.all(e, !has(e.value) || !has(e.valueFrom))";
  static final String ENV_VALUE_OR_SECRET_MESSAGE = "spec.env: a variable sets value or valueFrom, not both";
  static final String ENV_NAMES_ONCE = "self.all(e, !has(e.name) || self.exists_one(f, has(f.name) && f.name == e.name))";
  static final String ENV_NAMES_ONCE_MESSAGE = "spec.env sets a name twice: each variable once";
  /** The names of {@link SpecValidator#RESERVED_ENV}, as a CEL list (a test checks that the two agree). */
  static final String RESERVED_ENV_LIST = "['TRAININGJOB_JOB_DIR', 'TRAININGJOB_PROGRESS_FILE', 'TRAININGJOB_OUTPUT_DIR', "
      + "'TRAININGJOB_CHECKPOINT_DIR', 'TRAININGJOB_ATTEMPT', 'TRAININGJOB_RESUMED', 'TRAININGJOB_INTERRUPT_FILE']";
  static final String ENV_NOT_RESERVED = "self.all(e, !has(e.name) || !(e.name in " + RESERVED_ENV_LIST + "))";
  static final String ENV_NOT_RESERVED_MESSAGE = "spec.env names a variable the operator sets (the TRAININGJOB_ ones the "
      + "script's contract uses); choose another name";

  // spec.access
  static final String PORTS_NEED_CIDRS = "!has(self.ports) || size(self.ports) == 0 "
      + "|| (has(self.allowedCidrs) && size(self.allowedCidrs) > 0)";
  static final String PORTS_NEED_CIDRS_MESSAGE = "spec.access.allowedCidrs must name who may reach spec.access.ports; "
      + "nothing is opened to the world by default";
  static final String CIDRS_NEED_PORTS = "!has(self.allowedCidrs) || size(self.allowedCidrs) == 0 "
      + "|| (has(self.ports) && size(self.ports) > 0)";
  static final String CIDRS_NEED_PORTS_MESSAGE = "spec.access.allowedCidrs needs spec.access.ports: it names who may reach "
      + "those ports, and opens nothing by itself";
  static final String NO_SSH_PORT = "!has(self.ports) || !self.ports.exists(p, p == 22)";
  static final String NO_SSH_PORT_MESSAGE = "spec.access.ports names the SSH port 22, which the operator opens itself to its "
      + "own addresses only; to reach the machine use kubectl trainingjob attach or tunnel";
}
