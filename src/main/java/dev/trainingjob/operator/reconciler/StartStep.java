package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.job.JobFailure;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.remote.HostKeyMismatchException;
import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.RemoteCommandException;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.remote.RemoteHost;
import java.time.Duration;
import java.time.Instant;

/**
 * Bootstrapping: connect (a new machine may take minutes before sshd answers), upload the bundle
 * and start the driver exactly once, then wait for the driver to report that the script runs.
 */
final class StartStep implements JobStep {
  private final ProbeApplier probes;

  StartStep(ProbeApplier probes) {
    this.probes = probes;
  }

  @Override
  public StepResult run(JobContext ctx) throws Exception {
    Guards.checkBeforeStart(ctx); // a machine that boots or prepares Python costs money all the same
    RemoteHost remote;
    try {
      remote = ctx.remote();
    } catch (HostUnreachableException e) {
      var gone = ctx.ifMachineGone(e);
      if (gone.isPresent()) {
        return gone.get();
      }
      return waitForSsh(ctx, e);
    } catch (HostKeyMismatchException e) {
      throw new JobFailure(Reason.HostKeyMismatch, e.getMessage());
    }
    var timings = ctx.timings();
    if (timings.sshReady == null) {
      timings.sshReady = ctx.nowText();
    }
    var run = ctx.status().run;
    if (run != null && Boolean.TRUE.equals(run.reusesMachine)) {
      // a new run on the machine of the run before: its job directory is cleared first (Python and the checkpoint stay);
      // idempotent per run, so a reconcile whose status write was lost does not clear the new run's files
      remote.renew(ctx.ref(), "run-" + (run.number == null ? 1 : run.number));
      run.reusesMachine = null;
    }
    ProbeResult probe = ctx.probe(remote);
    int attempt = Attempts.current(ctx.status());
    if (probe.state() == ProbeResult.State.ABSENT) {
      // the probe reads files the upload writes; once the driver ran, never upload over it again
      remote.upload(ctx.bundles().build(ctx.job(), ctx.provider().duties(ctx.job())));
      start(remote, ctx, attempt);
      probe = ctx.probe(remote);
    } else if (heldAttempt(probe) < attempt) {
      // a retry or an interruption on purpose: the next attempt on this machine, once its backoff passed
      var startAt = ctx.status().timings == null || ctx.status().timings.attemptStarted == null ? null
          : Instant.parse(ctx.status().timings.attemptStarted);
      if (startAt != null && ctx.now().isBefore(startAt)) {
        // looked at every probe interval meanwhile: each probe feeds the ec2 machine's heartbeat
        Duration wait = Duration.between(ctx.now(), startAt);
        return StepResult.checkAgainAfter(wait.compareTo(ctx.config().probeInterval()) < 0 ? wait : ctx.config().probeInterval());
      }
      start(remote, ctx, attempt);
      probe = ctx.probe(remote);
    }
    probes.apply(ctx, probe);
    if (probe.exited()) {
      var sessionEnding = ScriptEnded.waitForTheSessionToEnd(ctx, probe);
      return sessionEnding.isPresent() ? sessionEnding.get() : ScriptEnded.decide(ctx, probe);
    }
    if (probe.state() == ProbeResult.State.RUNNING) {
      // the first attempt's start: spec.limits.maxRuntimeSeconds counts the whole job, all attempts together
      if (timings.bootstrapped == null) {
        timings.bootstrapped = ctx.nowText();
      }
      ctx.moveTo(Phase.Running, Reason.Running, "The script is running in screen session " + ctx.ref().sessionName()
          + (attempt > 1 ? " (attempt " + attempt + ")" : ""));
      return StepResult.next();
    }
    ctx.status().message = "Preparing Python (" + probe.state().word() + ")";
    ctx.waitBeside(remote, probe); // the driver moving on (the script runs, or it ended) wakes the job at once
    return StepResult.checkAgainAfter(ctx.config().probeInterval());
  }

  /** The attempt the job directory holds: a directory from before attempts were counted holds the first. */
  private static int heldAttempt(ProbeResult probe) {
    return probe.attempt() == null ? 1 : probe.attempt();
  }

  private static void start(RemoteHost remote, JobContext ctx, int attempt) throws Exception {
    if (startOnce(remote, ctx, attempt)) {
      ctx.events().normal(ctx.job(), Reason.Started, "Driver started in screen session " + ctx.ref().sessionName()
          + (attempt > 1 ? " (attempt " + attempt + ")" : ""));
    }
    if (ctx.status().startedAt == null) {
      ctx.status().startedAt = ctx.nowText();
    }
  }

  private static boolean startOnce(RemoteHost remote, JobContext ctx, int attempt) throws Exception {
    try {
      return remote.start(ctx.ref(), attempt);
    } catch (RemoteCommandException e) {
      if (e.exitStatus() == 10) {
        throw new JobFailure(Reason.ScreenMissing, e.getMessage());
      }
      throw e;
    }
  }

  private StepResult waitForSsh(JobContext ctx, HostUnreachableException e) {
    var provisioned = ctx.timings().provisioned;
    Instant since = provisioned == null ? ctx.now() : Instant.parse(provisioned);
    Duration waited = Duration.between(since, ctx.now());
    if (waited.compareTo(ctx.config().sshReadyTimeout()) > 0) {
      throw new JobFailure(Reason.SshUnreachable, "SSH at " + e.target() + " did not answer within "
          + ctx.config().sshReadyTimeout().toSeconds() + "s: " + e.getMessage());
    }
    ctx.status().message = "Waiting for SSH at " + e.target() + " (" + waited.toSeconds() + "s so far): " + e.getMessage();
    return StepResult.checkAgainAfter(ctx.config().pollInterval());
  }
}
