package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.remote.HostUnreachableException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

/** A plugin verb's errors as one line on stderr and exit code 1, not a stack trace. */
final class PluginErrors {
  private PluginErrors() {}

  static int run(CommandSpec spec, Callable<Integer> verb) throws Exception {
    try {
      return verb.call();
    } catch (PluginException e) {
      spec.commandLine().getErr().println("error: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 1;
    } catch (HostUnreachableException e) {
      spec.commandLine().getErr().println("error: cannot reach the machine: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 1;
    }
  }
}
