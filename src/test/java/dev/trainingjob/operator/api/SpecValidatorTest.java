package dev.trainingjob.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.support.Jobs;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {
  private static List<String> problems(Consumer<TrainingJobSpec> change) {
    TrainingJobSpec spec = Jobs.simple("v").getSpec();
    change.accept(spec);
    return SpecValidator.validate(spec).stream().map(Object::toString).toList();
  }

  @Test
  void aPlainInlineJobIsValid() {
    assertThat(problems(s -> {})).isEmpty();
  }

  @Test
  void pathsThatLeaveTheJobDirectoryAreRefused() {
    assertThat(problems(s -> s.script.entrypoint = "/abs/train.py")).anyMatch(p -> p.startsWith("spec.script.entrypoint: must be relative"));
    assertThat(problems(s -> s.script.entrypoint = "a/../../train.py")).anyMatch(p -> p.contains("'..'"));
    assertThat(problems(s -> s.script.inline = Map.of("../x.py", "", "train.py", "")))
        .anyMatch(p -> p.startsWith("spec.script.inline[../x.py]"));
    assertThat(problems(s -> s.output = new OutputSpec() {{ paths = List.of("/root/.ssh"); }}))
        .anyMatch(p -> p.startsWith("spec.output.paths[0]"));
  }

  @Test
  void theCheckpointDirectoryMustBeADirectoryUnderTheJobsFiles() {
    assertThat(problems(s -> s.checkpoint = new CheckpointSpec() {{ path = "."; }}))
        .anyMatch(p -> p.startsWith("spec.checkpoint.path: must name a directory"));
    assertThat(problems(s -> s.checkpoint = new CheckpointSpec() {{ path = "state/./ckpt"; }})).isNotEmpty();
    assertThat(problems(s -> s.checkpoint = new CheckpointSpec() {{ path = "state/ckpt/"; }})).isEmpty();
  }

  @Test
  void anEntrypointMustNameAnInlineFileWhenFilesAreOnlyInline() {
    assertThat(problems(s -> s.script.entrypoint = "main.py")).anyMatch(p -> p.contains("not among the files"));
    assertThat(problems(s -> { s.script.entrypoint = "main.py"; s.script.configMap = "code"; })).isEmpty();
  }

  @Test
  void envNamesMustBeIdentifiersAndSecretsNeedNameAndKey() {
    assertThat(problems(s -> s.env = List.of(env("MY-VAR", "x")))).anyMatch(p -> p.startsWith("spec.env[0].name"));
    assertThat(problems(s -> s.env = List.of(env("A", "1"), env("A", "2")))).anyMatch(p -> p.contains("set twice"));
    EnvVarSpec fromSecret = env("TOKEN", null);
    fromSecret.valueFrom = new EnvVarSpec.Source();
    fromSecret.valueFrom.secretKeyRef = new EnvVarSpec.SecretKeyRef();
    fromSecret.valueFrom.secretKeyRef.name = "s";
    assertThat(problems(s -> s.env = List.of(fromSecret))).anyMatch(p -> p.startsWith("spec.env[0].valueFrom.secretKeyRef"));
  }

  @Test
  void cidrsMustParseAndPortsNeedThem() {
    assertThat(SpecValidator.isCidr("203.0.113.0/24")).isTrue();
    assertThat(SpecValidator.isCidr("2001:db8::/32")).isTrue();
    assertThat(SpecValidator.isCidr("300.1.1.1/24")).isFalse();
    assertThat(SpecValidator.isCidr("10.0.0.0/33")).isFalse();
    assertThat(SpecValidator.isCidr("example.com/24")).isFalse();
    assertThat(SpecValidator.isCidr("10.0.0.0")).isFalse();
    assertThat(problems(s -> s.access = access(List.of(6006), List.of("nope")))).anyMatch(p -> p.startsWith("spec.access.allowedCidrs[0]"));
    assertThat(problems(s -> s.access = access(List.of(6006), null))).anyMatch(p -> p.contains("nothing is opened to the world"));
    assertThat(problems(s -> s.access = access(List.of(0), List.of("10.0.0.0/8")))).anyMatch(p -> p.startsWith("spec.access.ports[0]"));
  }

  /** The rules the CRD states in CEL (CelRules), which an API server without CEL lets through. */
  @Test
  void theCrossFieldRulesOfTheCrdHoldWithoutAnApiServer() {
    assertThat(problems(s -> s.compute = new ComputeSpec())).containsExactly("spec.compute: names no provider: name one of ec2, host "
        + "or local, or leave spec.compute out for the operator's default provider");
    assertThat(problems(s -> s.script.inline = null)).containsExactly("spec.script: names no files: give spec.script.inline, "
        + "configMap or git");
    assertThat(problems(s -> s.access = access(null, List.of("203.0.113.0/24")))).containsExactly("spec.access.allowedCidrs: "
        + "needs spec.access.ports: it names who may reach those ports, and opens nothing by itself");
    assertThat(problems(s -> s.access = access(List.of(), List.of()))).isEmpty();
  }

  @Test
  void theSshPortIsTheOperatorsAndNeverOpenedOnRequest() {
    assertThat(problems(s -> s.access = access(List.of(6006, 22), List.of("0.0.0.0/0"))))
        .containsExactly("spec.access.ports[1]: " + SpecValidator.sshPortProblem(22));
    assertThat(problems(s -> s.access = access(List.of(6006, 8888), List.of("203.0.113.0/24")))).isEmpty();
  }

  private static ScriptSpec.GitSource git(String url, String credentialsSecret) {
    ScriptSpec.GitSource git = new ScriptSpec.GitSource();
    git.url = url;
    git.credentialsSecret = credentialsSecret;
    return git;
  }

  private static List<String> gitProblems(String url, String credentialsSecret) {
    return problems(s -> {
      s.script.configMap = "c";
      s.script.git = git(url, credentialsSecret);
    });
  }

  @Test
  void gitCredentialsInTheUrlAreRefusedPointingToTheSecret() {
    for (String url : List.of("https://oauth2:glpat-abcdef123456@gitlab.com/team/repo.git", "https://ghp_abcdef123456@github.com/o/r.git",
        "https://me@github.com/o/r.git", "ssh://git:hunter22@git.example.com/r.git")) {
      assertThat(gitProblems(url, null)).as(url).singleElement().asString()
          .startsWith("spec.script.git.url: must not carry credentials").contains("spec.script.git.credentialsSecret")
          // the message never repeats what it refuses
          .doesNotContain("glpat", "ghp_", "hunter22");
    }
    // a user name for SSH is no secret
    assertThat(gitProblems("ssh://git@github.com/o/r.git", null)).isEmpty();
    assertThat(gitProblems("git@github.com:o/r.git", "deploy-key")).isEmpty();
    assertThat(gitProblems("https://github.com/o/r.git", "gh-token")).isEmpty();
  }

  @Test
  void gitCredentialsGoOnlyWhereTheyAreEncryptedAndTakenAndNameASecret() {
    assertThat(gitProblems("http://git.example.com/r.git", "gh-token")).singleElement().asString()
        .startsWith("spec.script.git.credentialsSecret: would be sent unencrypted");
    assertThat(gitProblems("git://git.example.com/r.git", "gh-token")).singleElement().asString()
        .startsWith("spec.script.git.credentialsSecret: does not apply");
    assertThat(gitProblems("https://github.com/o/r.git", "Not_A_Name")).singleElement().asString()
        .startsWith("spec.script.git.credentialsSecret: must be the name of a Secret");
  }

  @Test
  void argumentsThatWouldBeReadAsOptionsAreRefused() {
    assertThat(problems(s -> {
      s.script.configMap = "c";
      s.script.git = new ScriptSpec.GitSource();
      s.script.git.url = "https://example.com/r.git";
      s.script.git.ref = "--upload-pack=touch /tmp/x";
    })).anyMatch(p -> p.startsWith("spec.script.git.ref"));
    assertThat(problems(s -> s.python = python("venv", List.of("--index-url=http://evil")))).anyMatch(p -> p.startsWith("spec.python.requirements[0]"));
    assertThat(problems(s -> s.python = python("pip", List.of()))).anyMatch(p -> p.startsWith("spec.python.bootstrap"));
  }

  @Test
  void impossibleNumbersAreRefused() {
    assertThat(problems(s -> { s.limits = new LimitsSpec(); s.limits.maxRuntimeSeconds = -1L; }))
        .anyMatch(p -> p.startsWith("spec.limits.maxRuntimeSeconds"));
    assertThat(problems(s -> {
      s.compute = new ComputeSpec();
      s.compute.ec2 = new ComputeSpec.Ec2Spec();
      s.compute.ec2.instanceType = "g5.xlarge";
      s.compute.ec2.volumeSizeGiB = 7;
    })).anyMatch(p -> p.startsWith("spec.compute.ec2.volumeSizeGiB"));
  }

  @Test
  void anSshUserMustBeAUserNameNotACommand() {
    assertThat(problems(s -> {
      s.compute = new ComputeSpec();
      s.compute.ec2 = new ComputeSpec.Ec2Spec();
      s.compute.ec2.instanceType = "g5.xlarge";
      s.compute.ec2.sshUser = "ubuntu\n  sudo: ALL";
    })).anyMatch(p -> p.startsWith("spec.compute.ec2.sshUser"));
    assertThat(problems(s -> {
      s.compute = new ComputeSpec();
      s.compute.ec2 = new ComputeSpec.Ec2Spec();
      s.compute.ec2.instanceType = "g5.xlarge";
      s.compute.ec2.sshUser = "ml-user_2";
    })).isEmpty();
  }

  @Test
  void aHostsUserAndAddressAreWordsNotSshOptions() {
    assertThat(problems(s -> hostJob(s, "-oProxyCommand=touch /tmp/x", "203.0.113.7"))).anyMatch(p -> p.startsWith("spec.compute.host.user"));
    assertThat(problems(s -> hostJob(s, "ml", "-oProxyCommand=x"))).anyMatch(p -> p.startsWith("spec.compute.host.address"));
    assertThat(problems(s -> hostJob(s, "ml", "gpu box"))).anyMatch(p -> p.startsWith("spec.compute.host.address"));
    assertThat(problems(s -> hostJob(s, "john.doe", "gpu-1.lab.example"))).isEmpty();
    assertThat(problems(s -> hostJob(s, "ML_user", "2001:db8::7"))).isEmpty();
  }

  private static void hostJob(TrainingJobSpec s, String user, String address) {
    s.compute = new ComputeSpec();
    s.compute.host = new ComputeSpec.HostSpec();
    s.compute.host.user = user;
    s.compute.host.address = address;
    s.compute.host.privateKeySecret = "key";
    s.compute.host.hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHKDk1R8P3YFyGOTIq1HtBfZ9pZ6PSVr6yH3mYs5p6AA";
  }

  private static EnvVarSpec env(String name, String value) {
    EnvVarSpec e = new EnvVarSpec();
    e.name = name;
    e.value = value;
    return e;
  }

  private static AccessSpec access(List<Integer> ports, List<String> cidrs) {
    AccessSpec a = new AccessSpec();
    a.ports = ports;
    a.allowedCidrs = cidrs;
    return a;
  }

  private static PythonSpec python(String bootstrap, List<String> requirements) {
    PythonSpec p = new PythonSpec();
    p.bootstrap = bootstrap;
    p.requirements = requirements;
    return p;
  }

  @Test
  void whatCannotReachTheMachineIntactIsRefusedNamingTheField() {
    assertThat(problems(s -> s.script.inline = Map.of(".", "x", "train.py", ""))).anyMatch(p -> p.startsWith("spec.script.inline[.]: file name must name a file"));
    assertThat(problems(s -> s.script.inline = Map.of("sub/", "x", "train.py", ""))).anyMatch(p -> p.startsWith("spec.script.inline[sub/]"));
    assertThat(problems(s -> s.script.inline = Map.of("a//b.py", "x", "train.py", ""))).anyMatch(p -> p.startsWith("spec.script.inline[a//b.py]"));
    assertThat(problems(s -> s.script.inline = Map.of("./lib/util.py", "x", "train.py", ""))).isEmpty();
    assertThat(problems(s -> s.script.args = List.of("--ok", "bad\0arg"))).anyMatch(p -> p.startsWith("spec.script.args[1]: must be text without a NUL"));
    EnvVarSpec nul = new EnvVarSpec();
    nul.name = "X";
    nul.value = "a\0b";
    assertThat(problems(s -> s.env = List.of(nul))).anyMatch(p -> p.startsWith("spec.env[0].value: must not contain a NUL"));
    PythonSpec python = new PythonSpec();
    python.requirements = List.of("numpy\0");
    assertThat(problems(s -> s.python = python)).anyMatch(p -> p.startsWith("spec.python.requirements[0]"));
  }

  @Test
  void theNamesTheDriverSetsAreRefusedInEnv() {
    EnvVarSpec marker = new EnvVarSpec();
    marker.name = "TRAININGJOB_JOB_DIR";
    marker.value = "/elsewhere";
    assertThat(problems(s -> s.env = List.of(marker))).anyMatch(p -> p.startsWith("spec.env[0].name: TRAININGJOB_JOB_DIR is set by the operator"));
    EnvVarSpec own = new EnvVarSpec();
    own.name = "TRAININGJOB_MY_FLAG";
    own.value = "1";
    assertThat(problems(s -> s.env = List.of(own))).isEmpty();
  }
}
