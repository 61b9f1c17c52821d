package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.FailureDiagnosis;

import dev.trainingjob.operator.job.JobFailure;

import dev.trainingjob.operator.remote.ProbeResult;
import java.time.Duration;
import java.util.Optional;

/** Running: probe the job, mirror what it reports into status, notice when it ends. */
final class MonitorStep implements JobStep {
  private final ProbeApplier probes;

  MonitorStep(ProbeApplier probes) {
    this.probes = probes;
  }

  @Override
  public StepResult run(JobContext ctx) throws Exception {
    if (ctx.status().ending != null) {
      return StopPath.carryOut(ctx, probes); // a stop was decided (and written) on the last reconcile
    }
    String interrupt = ctx.job().getMetadata().getAnnotations() == null ? null
        : ctx.job().getMetadata().getAnnotations().get(Annotations.INTERRUPT);
    if (interrupt != null && !interrupt.equals(ctx.status().interruptRequest)) {
      // kubectl trainingjob interrupt: the notice a spot interruption gives, then the next attempt on the same machine
      ctx.status().interruptRequest = interrupt;
      return StopPath.decide(ctx, Reason.Interrupted, "interrupted on request (" + Annotations.INTERRUPT + "): the script gets "
          + "the notice, and the job resumes as attempt " + (Attempts.current(ctx.status()) + 1));
    }
    ProbeResult probe;
    try {
      // the probe runs beside the reconcile: none back yet, and this reconcile ends; the probe's landing wakes the job
      var probed = ctx.probeBeside();
      if (probed.isEmpty()) {
        return StepResult.checkAgainAfter(Deadlines.until(ctx.config().probeInterval(), Deadlines.runtimeLeft(ctx)));
      }
      probe = ctx.reached(probed.get());
    } catch (JobFailure e) {
      throw e;
    } catch (Exception e) {
      var gone = ctx.ifMachineGone(e);
      if (gone.isPresent()) {
        return gone.get();
      }
      // a machine that stops answering is not a reason to run past the limit: the job ends, and release
      // takes the machine (an ec2 instance that no one can reach also powers itself off on its heartbeat)
      var overBudget = Guards.capPassedWithoutTheScript(ctx);
      if (overBudget.isPresent()) {
        Outputs.notSaved(ctx, "the machine did not answer, so nothing could be collected from it");
        throw new JobFailure(Reason.BudgetExceeded, overBudget.get() + "; the machine did not answer (" + e.getMessage()
            + "), so it is released without stopping the script first");
      }
      if (Deadlines.runtimeLeft(ctx).filter(Duration::isNegative).isPresent()) {
        Outputs.notSaved(ctx, "the machine did not answer, so nothing could be collected from it");
        throw new JobFailure(Reason.MaxRuntimeExceeded, timedOut(ctx, "the script ran longer than spec.limits.maxRuntimeSeconds ("
            + ctx.job().getSpec().limits.maxRuntimeSeconds + "s); the machine did not answer (" + e.getMessage()
            + "), so it is released without stopping the script first"));
      }
      throw e;
    }
    probes.apply(ctx, probe);
    if (probe.exited()) {
      var sessionEnding = ScriptEnded.waitForTheSessionToEnd(ctx, probe);
      return sessionEnding.isPresent() ? sessionEnding.get() : ScriptEnded.decide(ctx, probe);
    }
    if (!probe.sessionAlive()) {
      // the driver writes exit_code before its session ends, so a dead session without one means it was killed
      return StopPath.decide(ctx, Reason.DriverLost, "The screen session " + ctx.ref().sessionName()
          + " ended without recording an exit code (the machine rebooted, or someone killed it)");
    }
    Optional<Duration> left = Deadlines.runtimeLeft(ctx);
    if (left.isPresent() && left.get().isNegative()) {
      // past spec.limits.maxRuntimeSeconds: stop the script (Ctrl-C, then kill after the grace), collect, end the job
      return StopPath.decide(ctx, Reason.MaxRuntimeExceeded, timedOut(ctx, "the script ran longer than "
          + "spec.limits.maxRuntimeSeconds (" + ctx.job().getSpec().limits.maxRuntimeSeconds + "s) and was stopped"));
    }
    var guard = Guards.check(ctx, probe); // the dollar cap, stall, idle GPUs, low disk
    if (guard.isPresent()) {
      return guard.get();
    }
    return StepResult.checkAgainAfter(Deadlines.until(ctx.config().probeInterval(), left));
  }

  /** Says the failure was the time limit (status.failure), and returns the sentence for it. */
  private static String timedOut(JobContext ctx, String what) {
    ctx.status().failure = FailureDiagnosis.timeout(ctx.job().getSpec().limits.maxRuntimeSeconds);
    return FailureDiagnosis.sentence(ctx.status().failure, what);
  }
}
