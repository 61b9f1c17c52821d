package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.job.JobFailure;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.Shard;
import dev.trainingjob.operator.api.SpecValidator;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.redact.LogRedactor;
import dev.trainingjob.operator.status.CostEstimate;
import dev.trainingjob.operator.status.StatusRecorder;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thin controller: validate, pick the step for the current phase, run steps while they move
 * the phase on, then write status only if it changed. Failures that retrying cannot fix end the
 * job in Failed; everything else is retried by JOSDK with backoff (see {@code OperatorFactory}).
 */
@ControllerConfiguration(name = TrainingJobReconciler.NAME)
public class TrainingJobReconciler implements Reconciler<TrainingJob>, Cleaner<TrainingJob> {
  public static final String NAME = "trainingjob";
  private static final Logger LOG = LoggerFactory.getLogger(TrainingJobReconciler.class);
  /** More transitions than the phases there are means a bug, not a job. */
  private static final int MAX_STEPS_PER_RECONCILE = Phase.values().length + 1;

  private final JobContext.Services services;
  private final Map<Phase, JobStep> steps = new EnumMap<>(Phase.class);
  private final ReleaseStep release = new ReleaseStep();
  private final ProbeApplier probes = new ProbeApplier();
  private final FinishStep finish;
  private final StatusRecorder recorder;

  public TrainingJobReconciler(JobContext.Services services) {
    this.finish = new FinishStep(services.config().collectThreads());
    this.services = services;
    this.recorder = new StatusRecorder(services.config().progressWriteInterval());
    steps.put(Phase.Pending, new AdmitStep());
    steps.put(Phase.Provisioning, new ProvisionStep());
    steps.put(Phase.Bootstrapping, new StartStep(probes));
    steps.put(Phase.Running, new MonitorStep(probes));
    steps.put(Phase.Finishing, finish);
    steps.put(Phase.Succeeded, release);
    steps.put(Phase.Failed, release);
    // Runs.observe decides everything in Suspended before any step: this only waits for spec.suspend
    steps.put(Phase.Suspended, ctx -> StepResult.done());
  }

  @Override
  public UpdateControl<TrainingJob> reconcile(TrainingJob job, Context<TrainingJob> context) throws Exception {
    var timer = services.metrics().reconcileStarted();
    String outcome = "error";
    try {
      var holder = services.claims().heldElsewhere(job);
      if (holder.isPresent()) {
        leftAlone(job, holder.get(), "acts on");
        outcome = "ok";
        return UpdateControl.noUpdate();
      }
      if (!ShardClaim.taken(job) && !services.claims().take(job)) {
        // it changed since it was read (relabelled for another shard, edited): it is looked at again as it is now, if it is
        // still this shard's
        outcome = "ok";
        return UpdateControl.<TrainingJob>noUpdate().rescheduleAfter(services.config().pollInterval());
      }
      JobContext ctx = new JobContext(job, services);
      TrainingJobStatus before = StatusRecorder.snapshot(ctx.status());
      ctx.status().observedGeneration = job.getMetadata().getGeneration();
      if (ctx.status().phase == null) {
        ctx.moveTo(Phase.Pending, Reason.Accepted, "Waiting to be provisioned");
      }
      StepResult result = runSteps(ctx);
      if (ctx.status().phase != Phase.Running && ctx.status().phase != Phase.Bootstrapping) {
        // nothing to probe beside the reconciles or to wait for on the machine any more; a probe still out lands nowhere
        services.probes().forget(job.getMetadata().getUid());
      }
      CostEstimate.apply(job, services.prices(), ctx.now()).ifPresent(billed ->
          services.metrics().instanceTime(job.getMetadata().getUid(), billed.instanceType(), billed.from(), billed.until(),
              billed.price().usdPerHour()));
      if (!BudgetAdmission.settleIfEnded(ctx) && result.kind() != StepResult.Kind.REQUEUE) {
        result = StepResult.checkAgainAfter(services.config().pollInterval()); // the budgets are written on a later look
      }
      services.metrics().phase(job.getMetadata().getUid(), ctx.status().phase);
      UpdateControl<TrainingJob> control = LockedStatusWrite.apply(control(job, before, result), job, context);
      outcome = "ok";
      return control;
    } finally {
      services.metrics().reconcileFinished(timer, outcome);
    }
  }

  /**
   * A TrainingBudget that changed wakes the jobs of its namespace that wait in Pending, and tells the ledger which
   * namespaces have budgets; a probe that came back wakes its job (see {@link OperatorFactory}).
   */
  @Override
  public List<EventSource<?, TrainingJob>> prepareEventSources(EventSourceContext<TrainingJob> context) {
    var budgets = OperatorFactory.budgetEvents(context);
    // settling a job needs no LIST of its namespace's budgets where the informer knows of none (BudgetLedger#settle)
    services.budgets().knowBudgetsFrom(namespace -> budgets.list(namespace).findAny().isPresent());
    return List.of(budgets, OperatorFactory.probeEvents(services.probes()));
  }

  /**
   * A run's spec is checked before anything is admitted for it: once admitted, a changed spec is a new run (see {@link Runs}),
   * checked in its turn. False when the job failed InvalidSpec just now.
   */
  private boolean validate(JobContext ctx) {
    if (ctx.status().phase != Phase.Pending) {
      return true;
    }
    List<SpecValidator.Violation> problems = SpecValidator.validate(ctx.job().getSpec());
    if (problems.isEmpty()) {
      return true;
    }
    String message = "Invalid spec: " + String.join("; ", problems.stream().map(Object::toString).toList());
    ctx.fail(Reason.InvalidSpec, message);
    return false;
  }

  private StepResult runSteps(JobContext ctx) throws Exception {
    for (int i = 0; i < MAX_STEPS_PER_RECONCILE; i++) {
      Phase phase = ctx.status().phase;
      StepResult result;
      try {
        if (i == 0) {
          // what the spec and annotations ask of the job as a whole (a new run, suspend) comes before the phase's step
          var decided = Runs.observe(ctx, release, probes);
          if (decided.isPresent() && decided.get().kind() != StepResult.Kind.CONTINUE) {
            return decided.get();
          }
          phase = ctx.status().phase;
        }
        if (!validate(ctx)) {
          continue; // failed InvalidSpec: the Failed step releases whatever an earlier run held
        }
        result = steps.get(phase).run(ctx);
      } catch (JobFailure failure) {
        // a failure's text may quote a command's output from the machine (stderr of a script the operator ran there)
        String message = masked(ctx.job(), failure.getMessage());
        LOG.warn("{}: failed in {}: {}: {}", ctx.job().ref(), phase, failure.reason(), message);
        ctx.fail(failure.reason(), message);
        continue;
      } catch (Exception retryable) {
        // errors are retried with backoff only within the pending deadline, never beyond it
        if (pendingTimedOut(ctx, phase)) {
          continue;
        }
        throw retryable;
      }
      if (result.kind() == StepResult.Kind.CONTINUE) {
        continue;
      }
      // the step ran first (a script already running moves on), and only a job still waiting is timed out
      if (pendingTimedOut(ctx, phase)) {
        continue;
      }
      if (result.kind() == StepResult.Kind.REQUEUE) {
        return StepResult.checkAgainAfter(Deadlines.until(result.after(), Deadlines.pendingLeft(ctx)));
      }
      return result;
    }
    throw new IllegalStateException("job " + ctx.job().ref() + " changed phase too often in one reconcile");
  }

  /** Past spec.limits.maxPendingSeconds in a phase before Running: the job fails, and its machine is released. */
  private static boolean pendingTimedOut(JobContext ctx, Phase phase) {
    if (Deadlines.pendingLeft(ctx).filter(Duration::isNegative).isEmpty()) {
      return false;
    }
    if (phase == Phase.Provisioning && Attempts.giveUpSpot(ctx)) {
      return false; // spot capacity could not be had in time: on-demand, with a new pending deadline
    }
    ctx.fail(Reason.PendingTimeout, "The script was not running within spec.limits.maxPendingSeconds ("
        + Deadlines.maxPendingSeconds(ctx.job().getSpec().limits) + "s) of the job's creation; it was " + phase
        + (ctx.status().message == null ? "" : ": " + ctx.status().message));
    return true;
  }

  /** Status is written when the recorder says so; the step's requeue is kept either way. */
  private UpdateControl<TrainingJob> control(TrainingJob job, TrainingJobStatus before, StepResult result) {
    boolean write = recorder.shouldWrite(job.getMetadata().getUid(), before, job.getStatus(), services.clock().instant());
    UpdateControl<TrainingJob> control = write ? UpdateControl.patchStatus(job) : UpdateControl.noUpdate();
    if (result.kind() == StepResult.Kind.REQUEUE) {
      control.rescheduleAfter(result.after());
    }
    return control;
  }

  @Override
  public DeleteControl cleanup(TrainingJob job, Context<TrainingJob> context) throws Exception {
    var holder = services.claims().heldElsewhere(job);
    if (holder.isPresent()) {
      // the machine is the other shard's to release: the finalizer stays until that shard sees the job again
      leftAlone(job, holder.get(), "releases");
      return DeleteControl.noFinalizerRemoval();
    }
    JobContext ctx = new JobContext(job, services);
    // a job no provider was ever asked about is released at once, with nothing to wait for
    if (release.release(ctx)) {
      // what it cost replaces what it reserved in the namespace's budgets, before the job is gone
      BudgetAdmission.settleAtDeletion(ctx);
      LOG.info("{}: released; removing the finalizer", job.ref());
      forget(job);
      return DeleteControl.defaultDelete();
    }
    LOG.info("{}: waiting for the machine to be released before deletion completes", job.ref());
    return DeleteControl.noFinalizerRemoval().rescheduleAfter(services.config().pollInterval());
  }

  /**
   * A job another shard took, now labelled for this one: the other shard no longer sees it, and this one must not touch
   * the machine that shard holds (nor write the status that shard keeps). It is said, in an Event and the log, and nothing
   * else is done until the label names the holder again, which hands the job back to it as it was.
   */
  private void leftAlone(TrainingJob job, String holder, String what) {
    String back = Shard.isDefault(holder) ? "the label " + Shard.LABEL + " is removed"
        : "the label says " + Shard.LABEL + "=" + holder;
    String message = "Shard " + holder + " took this job and holds its machine, but the job is now labelled for shard "
        + services.claims().shard() + ", which " + what + " no job another shard holds: nothing acts on it until " + back
        + " again (a job's shard is fixed when it is first taken)";
    LOG.warn("{}: {}", job.ref(), message);
    services.events().warning(job, Reason.ShardChanged, message);
  }

  private void forget(TrainingJob job) {
    String uid = job.getMetadata().getUid();
    recorder.forget(uid);
    probes.forget(uid);
    services.probes().forget(uid);
    finish.forget(uid);
    services.metrics().forget(uid);
  }

  /** Text bound for status, an Event or the log, with the job's Secret values and credential shapes masked. */
  private String masked(TrainingJob job, String text) {
    java.util.Set<String> values;
    try {
      values = services.bundles().secretValues(job);
    } catch (RuntimeException unreadable) {
      values = java.util.Set.of(); // the shapes are still masked; the values could not be read to mask them
    }
    return LogRedactor.redact(text, values);
  }

  /** Errors that retrying may fix: say so in status (once per distinct message), and let JOSDK retry. */
  @Override
  public ErrorStatusUpdateControl<TrainingJob> updateErrorStatus(TrainingJob job, Context<TrainingJob> context, Exception e) {
    // an error's text may quote what it was given (a command's output, a URL): credentials in it are masked
    String message = "Retrying after an error: " + masked(job, rootMessage(e));
    LOG.warn("{}: {}", job.ref(), message, e);
    if (job.getStatus() == null) {
      job.setStatus(new TrainingJobStatus());
    }
    if (Objects.equals(job.getStatus().message, message)) {
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    job.getStatus().message = message;
    services.events().warning(job, Reason.ReconcileError, message);
    if (context == null) {
      return ErrorStatusUpdateControl.patchStatus(job);
    }
    // as every status write, against the version read: a stale copy's error never lands on a job that moved on
    LockedStatusWrite.write(job, context);
    return ErrorStatusUpdateControl.noStatusUpdate();
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t && (t.getMessage() == null || t instanceof RuntimeException
        && t.getClass().getName().startsWith("io.javaoperatorsdk"))) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
