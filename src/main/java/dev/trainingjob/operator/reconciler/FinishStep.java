package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.status.FailureDiagnosis;
import dev.trainingjob.operator.remote.RemoteHost;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finishing: collect the outputs, then end the job as Succeeded or Failed by its exit code. The
 * download runs beside the reconcile (outputs can be large), which checks back until it is done; a
 * restarted operator simply downloads again.
 */
final class FinishStep implements JobStep {
  private static final Logger LOG = LoggerFactory.getLogger(FinishStep.class);
  private final ExecutorService downloads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "output-collector");
    t.setDaemon(true);
    return t;
  });
  /** Downloads in progress or done but not yet seen, by job uid. */
  private final Map<String, Future<List<Path>>> collecting = new ConcurrentHashMap<>();

  @Override
  public StepResult run(JobContext ctx) throws Exception {
    var spec = ctx.job().getSpec();
    List<String> paths = spec.output == null || spec.output.paths == null ? List.of() : spec.output.paths;
    String collected = "";
    Optional<Path> destination = ctx.provider().outputDirectory(ctx.job());
    if (!paths.isEmpty() && destination.isPresent()) {
      String uid = ctx.job().getMetadata().getUid();
      Future<List<Path>> download = collecting.get(uid);
      if (download == null) {
        RemoteHost remote = ctx.remote();
        var ref = ctx.ref();
        download = downloads.submit(() -> remote.collect(ref, paths, destination.get()));
        collecting.put(uid, download);
      }
      if (!download.isDone()) {
        feedGuard(ctx);
        ctx.status().message = "The script exited with code " + ctx.status().exitCode + "; collecting outputs to " + destination.get();
        return StepResult.checkAgainAfter(ctx.config().probeInterval());
      }
      collecting.remove(uid);
      List<Path> got;
      try {
        got = download.get();
      } catch (ExecutionException e) {
        // retried with backoff: the next reconcile downloads again
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
      collected = "; outputs collected to " + destination.get() + " (" + got.size() + " of " + paths.size() + ")";
    }
    String uri = ctx.provider().duties(ctx.job()).outputUri();
    if (uri != null) {
      // the driver copied them before it recorded the exit (a failed copy ends in OutputSyncFailed instead)
      ctx.status().outputUri = uri;
      collected += "; outputs copied to " + uri;
    }
    Integer exit = ctx.status().exitCode;
    if (exit != null && exit == 0) {
      ctx.moveTo(Phase.Succeeded, Reason.Succeeded, "The script exited with code 0" + collected);
    } else {
      var failure = ctx.status().failure;
      ctx.moveTo(Phase.Failed, Reason.ScriptFailed, failure == null
          ? "The script exited with code " + exit + lastLine(ctx) + collected // diagnosed by an operator before this one
          : FailureDiagnosis.sentence(failure, "the script exited with code " + exit) + collected);
    }
    return StepResult.next();
  }

  /**
   * A probe while the outputs download, its answer unused: a machine's own guard (ec2) counts probes as the
   * operator checking in, and a download longer than its heartbeat timeout must not power the machine off under
   * it. A failed probe changes nothing here; the download says whether the machine is still there.
   */
  private static void feedGuard(JobContext ctx) {
    try {
      ctx.probe(ctx.remote());
    } catch (Exception e) {
      LOG.debug("{}: probe while collecting outputs failed: {}", ctx.job().ref(), e.toString());
    }
  }

  /** Forgets a deleted job's download. */
  void forget(String uid) {
    Future<List<Path>> download = collecting.remove(uid);
    if (download != null) {
      download.cancel(true);
    }
  }

  /** The last non-empty log line: for a Python exception, the exception itself. */
  private static String lastLine(JobContext ctx) {
    List<String> tail = ctx.status().logTail;
    if (tail == null) {
      return "";
    }
    for (int i = tail.size() - 1; i >= 0; i--) {
      if (!tail.get(i).isBlank()) {
        return ": " + tail.get(i).strip();
      }
    }
    return "";
  }
}
