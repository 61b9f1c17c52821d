package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.cli.plugin.AttachCommand;
import dev.trainingjob.operator.cli.plugin.GetCommand;
import dev.trainingjob.operator.cli.plugin.LogsCommand;
import dev.trainingjob.operator.cli.plugin.OutputsCommand;
import dev.trainingjob.operator.cli.plugin.InterruptCommand;
import dev.trainingjob.operator.cli.plugin.ReleaseCommand;
import dev.trainingjob.operator.cli.plugin.RerunCommand;
import dev.trainingjob.operator.cli.plugin.TunnelCommand;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single entry point of the jar. */
@Command(
    name = "trainingjob-operator",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Runs Python training scripts on cloud GPU machines from TrainingJob resources.")
public final class Main {
  /** The subcommands by name, in the order help lists them (added in code: see {@link #commandLineFor}). */
  static final Map<String, Class<?>> SUBCOMMANDS = subcommands(RunCommand.class, DemoCommand.class, GetCommand.class,
      LogsCommand.class, AttachCommand.class, TunnelCommand.class, OutputsCommand.class, ReleaseCommand.class,
      InterruptCommand.class, RerunCommand.class, CommandLine.HelpCommand.class);

  public static void main(String[] args) {
    boolean plugin = args.length == 0 || !OPERATOR_COMMANDS.contains(args[0]);
    if (plugin) {
      // a plugin verb writes its answer to stdout and only real errors to stderr: not the operator's INFO lines
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.trainingjob")).setLevel(ch.qos.logback.classic.Level.WARN);
    }
    int code = commandLineFor(args).execute(args);
    if (plugin) {
      endHttpClientSelectors();
    }
    System.exit(code);
  }

  /**
   * Ends the selector threads of the JDK HttpClient (the Kubernetes client's), which live until their client is garbage.
   * Each waits in epoll, native code, and on JDK 17 the VM's exit waits about 300 ms for threads in native code before it
   * gives up on them, on every plugin call (bench/plugin-startup.sh). An interrupt ends the selector's loop, which closes its connections. Found by the
   * JDK's thread name (HttpClient-N-SelectorManager): under another name the exit only waits as before.
   */
  static void endHttpClientSelectors() {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("HttpClient-") && t.getName().endsWith("-SelectorManager")) {
        t.interrupt();
        try {
          t.join(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** The commands that run the operator (and log as it does); every other is a plugin verb. */
  static final java.util.Set<String> OPERATOR_COMMANDS = java.util.Set.of("run", "demo");

  /** The whole command line: every subcommand. */
  public static CommandLine commandLine() {
    return commandLine(SUBCOMMANDS.values());
  }

  /**
   * The command line for {@code args}: with only the subcommand they name, when they name one (other than help), else the
   * whole. picocli reads the options of every subcommand it is given, run's dozens among them: a quarter of the Java time
   * of a `get` (sampled with JFR). What the one subcommand parses, prints and answers is the same (CliTest).
   */
  static CommandLine commandLineFor(String... args) {
    Class<?> named = args.length == 0 || args[0].equals("help") ? null : SUBCOMMANDS.get(args[0]);
    return named == null ? commandLine() : commandLine(List.of(named));
  }

  private static CommandLine commandLine(Collection<Class<?>> subcommands) {
    CommandLine cli = new CommandLine(new Main());
    subcommands.forEach(cli::addSubcommand);
    return cli.setCaseInsensitiveEnumValuesAllowed(true); // after the subcommands: it applies to those there
  }

  private static Map<String, Class<?>> subcommands(Class<?>... classes) {
    Map<String, Class<?>> byName = new LinkedHashMap<>();
    for (Class<?> c : classes) {
      byName.put(c.getAnnotation(Command.class).name(), c);
    }
    return Collections.unmodifiableMap(byName);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"trainingjob-operator " + (v == null ? "dev" : v)};
    }
  }
}
