package dev.trainingjob.operator.support;

import dev.trainingjob.operator.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

/** A `kubectl trainingjob ...` verb run in this JVM, as the plugin runs it, with the kubeconfig (and any system properties) given. */
public final class Plugin {
  private Plugin() {}

  public record Result(int code, String out, String err) {}

  public static Result run(Path kubeconfig, String... args) {
    return run(kubeconfig, Map.of(), args);
  }

  /** With {@code properties} set for the run only (the AWS SDK's credentials, say) and restored after. */
  public static synchronized Result run(Path kubeconfig, Map<String, String> properties, String... args) {
    Map<String, String> all = new java.util.HashMap<>(properties);
    all.put("kubeconfig", kubeconfig.toString());
    Map<String, String> before = new java.util.HashMap<>();
    all.forEach((k, v) -> before.put(k, System.setProperty(k, v)));
    try {
      return execute(args);
    } finally {
      before.forEach((k, v) -> {
        if (v == null) {
          System.clearProperty(k);
        } else {
          System.setProperty(k, v);
        }
      });
    }
  }

  /** The jar's command line with {@code args}, its output and errors captured. */
  public static Result execute(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }
}
