package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.Collected;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.status.FailureDiagnosis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * Finishing: collect the outputs into the operator's directory (unless the machine copied them to S3), then end the job:
 * with the reason a stop or a failed copy recorded (status.ending), else Succeeded or Failed by the exit code. The
 * download runs beside the reconcile (outputs can be large), which checks back until it is done, within the collect
 * deadline counted from the script's end (a restarted operator downloads again, within the same deadline); what was
 * not saved, and why, is in status.outputs.
 */
final class FinishStep implements JobStep {
  /**
   * The longest a reconcile waits for a collection it started (never more than a probe interval), before it looks again
   * later: it holds a reconcile thread meanwhile.
   */
  static final Duration SHORT_WAIT = Duration.ofSeconds(2);

  private static final Logger LOG = LoggerFactory.getLogger(FinishStep.class);
  /** At most so many downloads at once (each holds an SFTP channel and a thread); the others queue, one entry per job. */
  private final ExecutorService downloads;
  /** Downloads in progress or done but not yet seen, by job uid. */
  private final Map<String, Download> collecting = new ConcurrentHashMap<>();

  /**
   * A job's download for one stint of the script (run/attempt/launch). Kept once done, until the job's next stint or its
   * deletion: a reconcile whose status write was refused (the job changed meanwhile) comes back to Finishing and takes the
   * same result, rather than collecting again from a machine that reconcile may already have released.
   */
  private record Download(String stint, Future<Collected> future, java.util.concurrent.atomic.AtomicBoolean started) {}

  FinishStep(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("--collect-threads must be at least 1, not " + threads);
    }
    var count = new java.util.concurrent.atomic.AtomicInteger();
    downloads = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "output-collector-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public StepResult run(JobContext ctx) throws Exception {
    List<String> paths = Outputs.paths(ctx);
    Optional<Path> destination = ctx.provider().outputDirectory(ctx.job());
    var outputs = ctx.status().outputs;
    boolean copied = outputs != null && outputs.uri != null;
    if (!paths.isEmpty() && destination.isPresent() && !copied) {
      Optional<StepResult> wait = collect(ctx, paths, destination.get());
      if (wait.isPresent()) {
        return wait.get();
      }
    }
    var ending = ctx.status().ending;
    if (ending != null && Runs.REASONS.contains(ending.reason)) {
      // stopped for a newer spec, a rerun or spec.suspend: the run is kept in status.runs, the job goes on (looked at anew
      // on the next reconcile, once this is written: a machine to release comes first)
      Runs.afterStop(ctx);
      return StepResult.checkAgainAfter(Duration.ofMillis(10));
    }
    end(ctx);
    return StepResult.next();
  }

  /** Empty once collection is over (done, failed for good, or past its deadline); else when to look again. */
  private Optional<StepResult> collect(JobContext ctx, List<String> paths, Path destination) throws Exception {
    String uid = ctx.job().getMetadata().getUid();
    Duration limit = ctx.config().remote().collectTimeout();
    Instant deadline = Instant.parse(ctx.timings().finished == null ? ctx.nowText() : ctx.timings().finished).plus(limit);
    Duration left = Duration.between(ctx.now(), deadline);
    String stint = ctx.stint();
    Download current = collecting.get(uid);
    if (current != null && !current.stint().equals(stint)) {
      current.future().cancel(true); // an earlier stint's
      collecting.remove(uid, current);
      current = null;
    }
    boolean submittedNow = current == null;
    if (current == null) {
      if (left.isNegative()) {
        gaveUp(ctx, paths, destination, "the collect deadline (" + limit + " from the script's end) passed");
        return Optional.empty();
      }
      RemoteHost remote;
      try {
        remote = ctx.remote();
      } catch (Exception unreachable) {
        return Optional.ofNullable(unreachable(ctx, paths, destination, unreachable, left));
      }
      var ref = ctx.ref();
      try {
        // an ec2 machine's guard would power it off at its ceiling (maxRuntimeSeconds + grace), perhaps mid-download
        remote.keepUntil(ref, deadline.plus(DebugHold.GUARD_MARGIN).getEpochSecond());
      } catch (Exception e) {
        LOG.warn("{}: could not move the machine's power-off ceiling past the collect deadline: {}", ctx.job().ref(), e.toString());
      }
      long maxBytes = ctx.config().remote().collectMaxBytes();
      var started = new java.util.concurrent.atomic.AtomicBoolean();
      current = new Download(stint, downloads.submit(() -> {
        started.set(true);
        return remote.collect(ref, paths, destination, maxBytes);
      }), started);
      collecting.put(uid, current);
    }
    Future<Collected> download = current.future();
    // a download still waiting for its turn (--collect-threads) is waited for only by the reconcile that asked for it (a
    // free thread takes it at once): every later look would hold a reconcile thread behind the queue too
    if (!download.isDone() && (submittedNow || current.started().get())) {
      try {
        // most collections take a moment: a short wait here, rather than a whole probe interval until the next look
        long wait = Math.min(Math.min(SHORT_WAIT.toMillis(), ctx.config().probeInterval().toMillis()), Math.max(0, left.toMillis()));
        download.get(wait, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException stillGoing) {
        // looked at again below, and on the next reconcile
      } catch (java.util.concurrent.ExecutionException failed) {
        // done, with an error: read below
      }
    }
    if (!download.isDone()) {
      if (left.isNegative()) {
        download.cancel(true);
        collecting.remove(uid, current);
        gaveUp(ctx, paths, destination, "the collect deadline (" + limit + " from the script's end) passed before the download "
            + (current.started().get() ? "ended" : "had its turn (--collect-threads)"));
        return Optional.empty();
      }
      feedGuard(ctx);
      var ending = ctx.status().ending;
      ctx.status().message = (ending != null ? ending.message : "The script exited with code " + ctx.status().exitCode)
          + (current.started().get() ? "; collecting outputs to " + destination
              : "; waiting for a turn to collect outputs (--collect-threads downloads at once)");
      return Optional.of(StepResult.checkAgainAfter(Deadlines.until(ctx.config().probeInterval(), Optional.of(left))));
    }
    Collected got;
    try {
      got = download.get();
    } catch (ExecutionException e) {
      collecting.remove(uid, current); // tried again, if the machine and the deadline allow
      Exception cause = e.getCause() instanceof Exception c ? c : e;
      return Optional.ofNullable(unreachable(ctx, paths, destination, cause, left));
    }
    var outputs = Outputs.of(ctx.status());
    outputs.directory = destination.toString();
    outputs.collected = got.saved();
    outputs.missing = got.missing();
    if (!got.cut().isEmpty()) {
      outputs.notSaved = join(outputs.notSaved, String.join(", ", got.cut()) + " not collected (in whole or in part): together the "
          + "outputs weigh more than the operator collects for one job (--collect-max-bytes " + ctx.config().remote().collectMaxBytes()
          + ")");
    }
    return Optional.empty();
  }

  /**
   * A download that failed, or a machine that cannot be reached: tried again (the error goes to JOSDK's backoff) while the
   * deadline allows and the machine is there; then the job ends with what was collected. Null when collection is over.
   */
  private static StepResult unreachable(JobContext ctx, List<String> paths, Path destination, Exception cause, Duration left)
      throws Exception {
    if (ctx.machineGone()) {
      gaveUp(ctx, paths, destination, "the machine went away before they were collected (" + cause.getMessage() + ")");
      return null;
    }
    if (left.isNegative()) {
      gaveUp(ctx, paths, destination, "collecting them failed until the collect deadline passed: " + cause.getMessage());
      return null;
    }
    throw cause;
  }

  /**
   * Ends collection before the download did: nothing is counted as collected (what arrived may be partial, and the folder
   * may hold an earlier job's files of the same name); the reason says where to look.
   */
  private static void gaveUp(JobContext ctx, List<String> paths, Path destination, String why) {
    var outputs = Outputs.of(ctx.status());
    boolean started = Files.isDirectory(destination);
    outputs.notSaved = join(outputs.notSaved, why + (started ? " (what arrived is in " + destination + ", perhaps in part)" : ""));
    LOG.warn("{}: outputs not all collected: {}", ctx.job().ref(), why);
  }

  private static String join(String before, String more) {
    return before == null ? more : before + "; " + more;
  }

  private static void end(JobContext ctx) {
    var status = ctx.status();
    String saved = Outputs.summary(ctx);
    if (status.ending != null) {
      ctx.fail(StopPath.reasonOf(status.ending.reason), status.ending.message + saved);
      return;
    }
    Integer exit = status.exitCode;
    if (exit != null && exit == 0) {
      ctx.moveTo(Phase.Succeeded, Reason.Succeeded, "The script exited with code 0" + saved);
    } else {
      var failure = status.failure;
      ctx.moveTo(Phase.Failed, Reason.ScriptFailed, failure == null
          ? "The script exited with code " + exit + lastLine(ctx) + saved // diagnosed by an operator before this one
          : FailureDiagnosis.sentence(failure, "the script exited with code " + exit) + saved);
    }
  }

  /**
   * A probe while the outputs download, its answer unused: a machine's own guard (ec2) counts probes as the
   * operator checking in, and a download longer than its heartbeat timeout must not power the machine off under
   * it. A failed probe changes nothing here; the download says whether the machine is still there.
   */
  static void feedGuard(JobContext ctx) {
    try {
      ctx.probe(ctx.remote());
    } catch (Exception e) {
      LOG.debug("{}: probe while the machine is kept failed: {}", ctx.job().ref(), e.toString());
    }
  }

  /** Forgets a deleted job's download. */
  void forget(String uid) {
    Download download = collecting.remove(uid);
    if (download != null) {
      download.future().cancel(true);
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
