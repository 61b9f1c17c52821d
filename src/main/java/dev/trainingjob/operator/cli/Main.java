package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.cli.plugin.AttachCommand;
import dev.trainingjob.operator.cli.plugin.GetCommand;
import dev.trainingjob.operator.cli.plugin.LogsCommand;
import dev.trainingjob.operator.cli.plugin.OutputsCommand;
import dev.trainingjob.operator.cli.plugin.InterruptCommand;
import dev.trainingjob.operator.cli.plugin.ReleaseCommand;
import dev.trainingjob.operator.cli.plugin.RerunCommand;
import dev.trainingjob.operator.cli.plugin.TunnelCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single entry point of the jar. */
@Command(
    name = "trainingjob-operator",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Runs Python training scripts on cloud GPU machines from TrainingJob resources.",
    subcommands = {RunCommand.class, DemoCommand.class, GetCommand.class, LogsCommand.class, AttachCommand.class,
        TunnelCommand.class, OutputsCommand.class, ReleaseCommand.class, InterruptCommand.class, RerunCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  public static void main(String[] args) {
    if (args.length == 0 || !OPERATOR_COMMANDS.contains(args[0])) {
      // a plugin verb writes its answer to stdout and only real errors to stderr: not the operator's INFO lines
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.trainingjob")).setLevel(ch.qos.logback.classic.Level.WARN);
    }
    System.exit(commandLine().execute(args));
  }

  /** The commands that run the operator (and log as it does); every other is a plugin verb. */
  static final java.util.Set<String> OPERATOR_COMMANDS = java.util.Set.of("run", "demo");

  public static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"trainingjob-operator " + (v == null ? "dev" : v)};
    }
  }
}
