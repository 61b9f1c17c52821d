package dev.trainingjob.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.support.Plugin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Option;

class CliTest {
  private static Plugin.Result run(String... args) {
    return Plugin.execute(args);
  }

  @Test
  void helpListsTheCommands() {
    Plugin.Result r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("run").contains("Runs the operator").contains("outputs").contains("rerun");
  }

  @Test
  void aVerbRunWithOnlyItsOwnSubcommandAnswersAsTheWholeCommandLine() {
    // Main builds only the named subcommand (start-up time); help, usage errors and exit codes must not tell
    for (String[] args : List.of(new String[] {"get", "--help"}, new String[] {"logs", "--no-such-flag", "job"},
        new String[] {"rerun"}, new String[] {"outputs", "-h"}, new String[] {"tunnel", "job", "not-a-port"})) {
      assertThat(execute(Main.commandLineFor(args), args)).as(String.join(" ", args)).isEqualTo(run(args));
    }
    assertThat(Main.commandLineFor("get", "-A").getSubcommands()).containsOnlyKeys("get");
    // no verb, help, or one that is not there: the whole command line, which lists them all or says what there is
    assertThat(Main.commandLineFor().getSubcommands()).containsOnlyKeys(Main.SUBCOMMANDS.keySet());
    assertThat(Main.commandLineFor("help", "get").getSubcommands()).containsOnlyKeys(Main.SUBCOMMANDS.keySet());
    assertThat(Main.commandLineFor("gte").getSubcommands()).containsOnlyKeys(Main.SUBCOMMANDS.keySet());
  }

  private static Plugin.Result execute(CommandLine cli, String... args) {
    var out = new java.io.StringWriter();
    var err = new java.io.StringWriter();
    cli.setOut(new java.io.PrintWriter(out));
    cli.setErr(new java.io.PrintWriter(err));
    int code = cli.execute(args);
    return new Plugin.Result(code, out.toString(), err.toString());
  }

  @Test
  void runHelpDocumentsEveryOptionWithItsEnvironmentVariable() {
    Plugin.Result r = run("run", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("--default-provider", "TRAININGJOB_DEFAULT_PROVIDER", "--namespaces", "TRAININGJOB_NAMESPACES",
        "--poll-interval", "TRAININGJOB_POLL_INTERVAL", "--probe-interval", "--ssh-ready-timeout", "--operator-id");
  }

  @Test
  void aBadDurationIsAClearError() {
    Plugin.Result r = run("run", "--poll-interval", "soon");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("'soon' is not a duration");
  }

  @Test
  void optionsBecomeTheOperatorsConfiguration() {
    OperatorOptions options = new OperatorOptions();
    new CommandLine(options).parseArgs("--default-provider", "ec2", "--namespaces", "ml, research", "--poll-interval", "30s");
    var config = options.toConfig();
    assertThat(config.defaultProvider()).isEqualTo("ec2");
    assertThat(config.namespaces()).containsExactly("ml", "research");
    assertThat(config.pollInterval()).hasSeconds(30);
  }

  @Test
  void ec2OptionsBecomeTheProvidersSettingsAndABadCidrIsRefused() {
    OperatorOptions options = new OperatorOptions();
    new CommandLine(options).parseArgs("--ec2-region", "eu-west-1", "--ec2-ssh-cidrs", "198.51.100.7/32, 10.0.0.0/16",
        "--ec2-instance-profile", "trainingjob-instance", "--ec2-shutdown-grace", "5m", "--ec2-heartbeat-timeout", "45m");
    var ec2 = options.toConfig().ec2();
    assertThat(ec2.region()).isEqualTo("eu-west-1");
    assertThat(ec2.sshCidrs()).containsExactly("198.51.100.7/32", "10.0.0.0/16");
    assertThat(ec2.instanceProfile()).isEqualTo("trainingjob-instance");
    assertThat(ec2.shutdownGrace()).hasMinutes(5);
    assertThat(ec2.heartbeatTimeout()).hasMinutes(45);
    assertThat(ec2.shutdownCommand()).isEqualTo(dev.trainingjob.operator.provider.ec2.Ec2Settings.DEFAULT_SHUTDOWN_COMMAND);

    Plugin.Result r = run("run", "--ec2-ssh-cidrs", "0.0.0.0/0,my-laptop");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("'my-laptop' is not a CIDR");
  }

  @Test
  void ec2ApiLimitsDefaultToAwssAndARaisedLimitOrAShareIsNamedOnTheCommandLine() {
    OperatorOptions plain = new OperatorOptions();
    new CommandLine(plain).parseArgs();
    assertThat(plain.toConfig().ec2().apiLimits()).isEqualTo(dev.trainingjob.operator.provider.ec2.Ec2ApiLimits.AWS_DEFAULTS);
    OperatorOptions raised = new OperatorOptions();
    new CommandLine(raised).parseArgs("--ec2-api-limits", "RunInstances=10/4", "--ec2-api-share", "0.5");
    var limits = raised.toConfig().ec2().apiLimits();
    assertThat(limits.share()).isEqualTo(0.5);
    assertThat(limits.request("RunInstances", false)).hasToString("10/4");

    Plugin.Result r = run("run", "--ec2-api-limits", "RunInstances=10 per second");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Action=capacity/refill");
  }

  @Test
  void leaderElectionIsOffUnlessAskedAndThenNamesItsLease() {
    OperatorOptions off = new OperatorOptions();
    new CommandLine(off).parseArgs();
    assertThat(off.toConfig().leaderElection().enabled()).isFalse();
    OperatorOptions on = new OperatorOptions();
    new CommandLine(on).parseArgs("--leader-election", "--lease-namespace", "trainingjob-system", "--leader-identity", "pod-a");
    var election = on.toConfig().leaderElection();
    assertThat(election.enabled()).isTrue();
    assertThat(election.leaseNamespace()).isEqualTo("trainingjob-system");
    assertThat(election.identity()).isEqualTo("pod-a");
    assertThat(election.leaseName()).isEqualTo("trainingjob-operator");
  }

  /** A shard has a Lease and an id on AWS of its own, so shards run side by side and never sweep each other's instances. */
  @Test
  void aShardNamesItsOwnLeaseAndInstallIdAndABadNameIsRefused() {
    OperatorOptions gpu = new OperatorOptions();
    new CommandLine(gpu).parseArgs("--shard", "gpu", "--operator-id", "ml-prod-eu1", "--leader-election");
    var config = gpu.toConfig();
    assertThat(config.shardName()).isEqualTo("gpu");
    assertThat(config.leaseName()).isEqualTo("trainingjob-operator-gpu");
    assertThat(config.installId()).isEqualTo("ml-prod-eu1-gpu");

    for (String[] args : List.of(new String[] {}, new String[] {"--shard", "default"}, new String[] {"--shard", " "})) {
      OperatorOptions plain = new OperatorOptions();
      new CommandLine(plain).parseArgs(Stream.concat(Stream.of(args), Stream.of("--operator-id", "ml-prod-eu1")).toArray(String[]::new));
      assertThat(plain.toConfig().shardName()).as(String.join(" ", args)).isEqualTo("default");
      assertThat(plain.toConfig().leaseName()).isEqualTo("trainingjob-operator");
      assertThat(plain.toConfig().installId()).as("the default shard keeps the install's id").isEqualTo("ml-prod-eu1");
    }

    Plugin.Result bad = run("run", "--shard", "GPU_1");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--shard").contains("lower-case");
    // the id and the shard together must still be a DNS label: it is the managed-by tag EC2 filters on
    Plugin.Result tooLong = run("run", "--shard", "a-shard-with-a-long-name-here", "--operator-id", "an-install-id-that-is-already-quite-long-x");
    assertThat(tooLong.code()).isEqualTo(2);
    assertThat(tooLong.err()).contains("--shard a-shard-with-a-long-name-here").contains("63");
  }

  @Test
  void runWithNoFlagsIsTheDefaultConfiguration() {
    OperatorOptions options = new OperatorOptions();
    new CommandLine(options).parseArgs();
    assertThat(options.toConfig()).isEqualTo(OperatorConfig.defaults());
  }

  @Test
  void runHasNoDefaultProviderNoOperatorIdAndNoLocalProviderUnlessAsked() {
    OperatorOptions none = new OperatorOptions();
    new CommandLine(none).parseArgs();
    var config = none.toConfig();
    assertThat(config.defaultProvider()).isNull();
    assertThat(config.operatorId()).isNull();
    assertThat(config.localProvider()).isFalse();

    OperatorOptions asked = new OperatorOptions();
    new CommandLine(asked).parseArgs("--enable-local-provider", "--default-provider", "local", "--operator-id", "ml-prod-eu1");
    assertThat(asked.toConfig().localProvider()).isTrue();
    assertThat(asked.toConfig().defaultProvider()).isEqualTo("local");
    assertThat(asked.toConfig().operatorId()).isEqualTo("ml-prod-eu1");

    // a manifest's empty value is none, not a provider or an id called ""
    OperatorOptions blank = new OperatorOptions();
    new CommandLine(blank).parseArgs("--default-provider", "", "--operator-id", " ");
    assertThat(blank.toConfig().defaultProvider()).isNull();
    assertThat(blank.toConfig().operatorId()).isNull();
  }

  @Test
  void aDefaultProviderThatCouldNeverServeAJobIsRefusedBeforeAnythingStarts() {
    Plugin.Result local = run("run", "--default-provider", "local");
    assertThat(local.code()).isEqualTo(2);
    assertThat(local.err()).contains("--default-provider local needs --enable-local-provider");

    Plugin.Result ec2 = run("run", "--default-provider", "ec2");
    assertThat(ec2.code()).isEqualTo(2);
    assertThat(ec2.err()).contains("--default-provider ec2, but the ec2 provider is off: no operator id is set");

    Plugin.Result unknown = run("run", "--default-provider", "gcp");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("--default-provider gcp: there is no such provider");
  }

  @Test
  void anOperatorIdThatCouldNameMoreThanOneInstallIsRefused() {
    Plugin.Result wildcard = run("run", "--operator-id", "team-*");
    assertThat(wildcard.code()).isEqualTo(2);
    assertThat(wildcard.err()).contains("'team-*' must be 1 to 63 lower-case letters").contains("other installs' instances");

    Plugin.Result formerDefault = run("run", "--operator-id", "trainingjob-operator");
    assertThat(formerDefault.code()).isEqualTo(2);
    assertThat(formerDefault.err()).contains("was every install's default");
  }

  @Test
  void thePluginLooksForTheLocalProvidersKeyWhereTheOperatorPutsItByDefault() {
    // picocli may wrap a path at a dot: compared without the spaces
    String help = run("logs", "--help").out().replaceAll("\\s+", "");
    assertThat(help).contains("~/.trainingjob-operator/local.");
    assertThat(dev.trainingjob.operator.cli.plugin.PluginOptions.DEFAULT_LOCAL_WORK_ROOT)
        .isEqualTo(OperatorConfig.defaults().localWorkRoot());
    assertThat(OperatorConfig.defaults().localWorkRoot().startsWith(Path.of(System.getProperty("user.home"))))
        .as("the user's own, not a name under the shared /tmp").isTrue();
  }

  @Test
  void runHelpShowsTheConfigurationsDefaultsAsTheFlagsTakeThem() {
    String help = run("run", "--help").out().replaceAll("\\s+", " ");
    OperatorConfig defaults = OperatorConfig.defaults();
    assertThat(help).contains(
        "TRAININGJOB_DEFAULT_PROVIDER. Default: none",
        "TRAININGJOB_ENABLE_LOCAL_PROVIDER. Default: false.",
        "TRAININGJOB_OPERATOR_ID. Default: none",
        "TRAININGJOB_POLL_INTERVAL. Default: 10s.",
        "TRAININGJOB_PROBE_INTERVAL. Default: 5s.",
        "TRAININGJOB_SSH_READY_TIMEOUT. Default: 10m.",
        "TRAININGJOB_RECONCILE_THREADS. Default: 10.",
        "TRAININGJOB_COLLECT_DIR. Default: trainingjob-outputs.",
        "TRAININGJOB_STOP_GRACE. Default: 10s.",
        "TRAININGJOB_EC2_SSH_PORT. Default: 22.",
        "TRAININGJOB_EC2_PRIVATE_ADDRESS. Default: false.",
        "TRAININGJOB_EC2_SWEEP_INTERVAL. Default: 5m.",
        "TRAININGJOB_EC2_ORPHAN_GRACE. Default: 15m.",
        "TRAININGJOB_EC2_HEARTBEAT_TIMEOUT. Default: 30m.",
        "TRAININGJOB_EC2_SHUTDOWN_GRACE. Default: 15m.",
        "TRAININGJOB_EC2_SHUTDOWN_COMMAND. Default: " + defaults.ec2().shutdownCommand(),
        "TRAININGJOB_PROGRESS_WRITE_INTERVAL. Default: 15s.",
        "TRAININGJOB_METRICS_PORT. Default: 8080.",
        "TRAININGJOB_LEADER_ELECTION. Default: false.");
    assertThat(help).doesNotContain("Default: null");
    // picocli may wrap a path at a dot: compared without the spaces
    assertThat(help.replace(" ", "")).contains("TRAININGJOB_LOCAL_WORK_ROOT.Default:" + defaults.localWorkRoot() + ".");
  }

  @Test
  void aFlagsAnnotationNamesOnlyItsEnvironmentVariableSoTheConfigurationHoldsEveryDefault() {
    List<Option> options = Stream.of(OperatorOptions.class.getDeclaredFields())
        .map(f -> f.getAnnotation(Option.class)).filter(Objects::nonNull).toList();
    assertThat(options).hasSizeGreaterThan(20);
    for (Option option : options) {
      Matcher env = Pattern.compile("Env: (TRAININGJOB_[A-Z0-9_]+)").matcher(String.join(" ", option.description()));
      assertThat(env.find()).as(option.names()[0]).isTrue();
      assertThat(option.defaultValue()).as(option.names()[0]).isEqualTo("${env:" + env.group(1) + "}");
    }
  }

  @Test
  void environmentVariablesOverrideTheConfigurationsDefaults() throws Exception {
    // picocli reads the process environment, so only a new process can have one set
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--help").redirectErrorStream(true);
    pb.environment().put("TRAININGJOB_POLL_INTERVAL", "30s");
    pb.environment().put("TRAININGJOB_METRICS_PORT", "9090");
    pb.environment().put("TRAININGJOB_EC2_HEARTBEAT_TIMEOUT", "2h");
    Process p = pb.start();
    String help = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(help).contains("TRAININGJOB_POLL_INTERVAL. Default: 30s.", "TRAININGJOB_METRICS_PORT. Default: 9090.",
        "TRAININGJOB_EC2_HEARTBEAT_TIMEOUT. Default: 2h.", "TRAININGJOB_PROBE_INTERVAL. Default: 5s.");
  }

  @Test
  void aDurationIsShownAsTheFlagsReadIt() {
    DurationConverter converter = new DurationConverter();
    for (Duration d : List.of(Duration.ofMillis(1500), Duration.ofSeconds(10), Duration.ofMinutes(90), Duration.ofHours(24),
        Duration.ZERO, Duration.ofNanos(1500))) {
      assertThat(converter.convert(DurationConverter.format(d))).isEqualTo(d);
    }
    assertThat(DurationConverter.format(Duration.ofMinutes(90))).isEqualTo("90m");
    assertThat(DurationConverter.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }
}
