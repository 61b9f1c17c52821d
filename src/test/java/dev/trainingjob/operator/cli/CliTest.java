package dev.trainingjob.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CliTest {
  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void helpListsTheCommands() {
    Result r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("run").contains("Runs the operator");
  }

  @Test
  void runHelpDocumentsEveryOptionWithItsEnvironmentVariable() {
    Result r = run("run", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("--default-provider", "TRAININGJOB_DEFAULT_PROVIDER", "--namespaces", "TRAININGJOB_NAMESPACES",
        "--poll-interval", "TRAININGJOB_POLL_INTERVAL", "--probe-interval", "--ssh-ready-timeout", "--operator-id");
  }

  @Test
  void aBadDurationIsAClearError() {
    Result r = run("run", "--poll-interval", "soon");
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
        "--ec2-instance-profile", "trainingjob-instance", "--ec2-shutdown-grace", "5m");
    var ec2 = options.toConfig().ec2();
    assertThat(ec2.region()).isEqualTo("eu-west-1");
    assertThat(ec2.sshCidrs()).containsExactly("198.51.100.7/32", "10.0.0.0/16");
    assertThat(ec2.instanceProfile()).isEqualTo("trainingjob-instance");
    assertThat(ec2.shutdownGrace()).hasMinutes(5);
    assertThat(ec2.shutdownCommand()).isEqualTo(dev.trainingjob.operator.provider.ec2.Ec2Settings.DEFAULT_SHUTDOWN_COMMAND);

    Result r = run("run", "--ec2-ssh-cidrs", "0.0.0.0/0,my-laptop");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("'my-laptop' is not a CIDR");
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
}
