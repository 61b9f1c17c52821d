package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.api.ConditionType;

import ch.qos.logback.classic.Level;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.demo.Demo;
import dev.trainingjob.operator.demo.LiveTable;
import dev.trainingjob.operator.status.Conditions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Runs the whole product on this machine with no cloud account: an embedded Kubernetes API, the operator "
        + "with the local provider, and the bundled example job (deploy/examples/demo-job.yaml), shown live.",
        "Exits 0 when the job Succeeded."})
public final class DemoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--serve", description = "Start the API and the operator, apply nothing, and run until interrupted.")
  boolean serve;

  /** Where the demo writes by default: in the current directory, and ignored by git there. */
  static final Path HOME = Path.of(".trainingjob-demo");

  @Option(names = "--kubeconfig-out", description = "With --serve: write a kubeconfig for kubectl here. Default: "
      + ".trainingjob-demo/kubeconfig.")
  Path kubeconfigOut;

  @Option(names = "--port", defaultValue = "0", description = "Port of the embedded API on 127.0.0.1 (0: any free port).")
  int port;

  @Option(names = "--work-dir", description = "Where jobs run and outputs are collected. Default: .trainingjob-demo/work.")
  Path workDir;

  @Option(names = "--timeout", converter = DurationConverter.class, defaultValue = "5m",
      description = "Give up waiting for the example after this long. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Option(names = "--verbose", description = "Show the operator's log.")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!verbose) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.trainingjob")).setLevel(Level.WARN);
    }
    Path dir = (workDir != null ? workDir : HOME.resolve("work")).toAbsolutePath().normalize();
    try (Demo demo = Demo.start(port, dir)) {
      // Ctrl-C or SIGTERM: the jobs are stopped and released before the demo goes, and nothing is left running
      Thread hook = new Thread(() -> {
        stopping = true;
        stopJobs(demo, out);
      }, "demo-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        return serve ? serve(demo, out) : runExample(demo, out);
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook); // an ending of its own: the demo closes now, and the hook with it
        } catch (IllegalStateException shuttingDown) {
          // the hook runs: it needs the demo open, and the JVM ends when it is done
          new CountDownLatch(1).await();
        }
      }
    }
  }

  /** Set when Ctrl-C or SIGTERM arrived: the table stops, and the stop is said instead. */
  private volatile boolean stopping;

  /** How long the demo waits, at its end, for its jobs to stop and be released. */
  static final Duration STOP_WAIT = Duration.ofSeconds(60);

  /** The demo's end: its jobs stopped and released, and what became of them said on {@code out}. */
  public static void stopJobs(Demo demo, PrintWriter out) {
    if (!demo.claimStop()) {
      return; // Ctrl-C while a timed-out demo stops its job: one stop, said once
    }
    try {
      if (demo.api().client().resources(TrainingJob.class).inAnyNamespace().list().getItems().isEmpty()) {
        return;
      }
      out.printf("%nStopping the demo's jobs: each script gets the stop notice, and its machine is released...%n");
      out.flush();
      Demo.Stopped stopped = demo.stopJobs(STOP_WAIT);
      out.printf(stopped.left() == 0 ? "Stopped %d job%s; nothing is left running.%n"
          : "Stopped %d job%s; %d not released within " + STOP_WAIT.toSeconds() + "s (their screen sessions may remain).%n",
          stopped.jobs(), stopped.jobs() == 1 ? "" : "s", stopped.left());
      out.flush();
    } catch (RuntimeException | Error e) {
      out.printf("Could not stop the demo's jobs: %s%n", e);
      out.flush();
    }
  }

  private int serve(Demo demo, PrintWriter out) throws Exception {
    Path kubeconfig = kubeconfigOut != null ? kubeconfigOut : HOME.resolve("kubeconfig");
    // the plugin finds the local provider's key through it (a cluster extension), with no flag
    demo.api().writeKubeconfig(kubeconfig, demo.config().localWorkRoot());
    out.printf("Kubernetes API (embedded) on %s; operator running with the local provider.%n", demo.api().url());
    out.printf("Work directory (jobs, outputs): %s%n", demo.config().localWorkRoot().getParent());
    out.printf("  kubectl --kubeconfig %s apply -f deploy/examples/demo-job.yaml%n", kubeconfig);
    out.printf("  kubectl --kubeconfig %s get trainingjobs%n", kubeconfig);
    out.println("Press Ctrl-C to stop.");
    out.flush();
    new CountDownLatch(1).await(); // until Ctrl-C or SIGTERM: the shutdown hook stops the jobs
    return 0;
  }

  private int runExample(Demo demo, PrintWriter out) throws Exception {
    var client = demo.api().client();
    TrainingJob job = client.resource(Demo.example()).inNamespace("default").create();
    String name = job.getMetadata().getName();
    LiveTable table = new LiveTable(out, System.console() != null);
    Instant deadline = Instant.now().plus(timeout);
    TrainingJob now = job;
    boolean attachOffered = false;
    while (Instant.now().isBefore(deadline) && !stopping) {
      TrainingJob seen = client.resources(TrainingJob.class).inNamespace("default").withName(name).get();
      if (seen == null && !stopping) {
        out.printf("%nThe job %s was deleted before it finished.%n", name);
        out.flush();
        return 2;
      }
      if (stopping) {
        break;
      }
      now = seen;
      var status = now.getStatus();
      if (!attachOffered && status != null && status.phase == Phase.Running && status.attachCommand != null) {
        table.note("While it runs, watch it in its screen session (detach with Ctrl-A d):");
        table.note("  " + status.attachCommand);
        attachOffered = true;
      }
      table.show(now);
      if (done(now)) {
        break;
      }
      Thread.sleep(250); // a terminal refresh rate, not a wait for a condition
    }
    table.finish();
    if (stopping) {
      new CountDownLatch(1).await(); // the stop hook says what became of the job, and the JVM ends after it
    }
    return summary(demo, now, out);
  }

  private static boolean done(TrainingJob job) {
    return job.getStatus() != null && job.getStatus().phase != null && job.getStatus().phase.isFinal()
        && Conditions.isTrue(job.getStatus(), ConditionType.RELEASED);
  }

  private int summary(Demo demo, TrainingJob job, PrintWriter out) throws Exception {
    var status = job.getStatus();
    if (status == null || status.phase == null || !status.phase.isFinal()) {
      out.printf("%nThe job did not finish within %s.%n", timeout);
      out.flush();
      stopJobs(demo, out); // the demo ends here: its job is stopped, not left running unwatched
      return 2;
    }
    out.printf("%n%s %s: %s%n", job.getMetadata().getName(), status.phase, status.message);
    Path outputs = demo.config().outputDir().resolve("default").resolve(job.getMetadata().getName()).toAbsolutePath();
    if (Files.isDirectory(outputs)) {
      out.printf("Outputs collected to %s:%n", outputs);
      try (Stream<Path> files = Files.walk(outputs)) {
        files.filter(Files::isRegularFile).forEach(f -> out.printf("  %s (%d bytes)%n", outputs.relativize(f), f.toFile().length()));
      }
    }
    String timeline = LiveTable.timeline(job);
    if (timeline != null) {
      out.printf("Timeline (from creation): %s%n", timeline);
    }
    // the job has ended and its machine was released: nothing is left to attach to, so no attach command is offered
    out.flush();
    return status.phase == Phase.Succeeded ? 0 : 1;
  }
}
