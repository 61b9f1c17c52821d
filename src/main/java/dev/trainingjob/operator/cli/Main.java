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
    System.exit(commandLine().execute(args));
  }

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
