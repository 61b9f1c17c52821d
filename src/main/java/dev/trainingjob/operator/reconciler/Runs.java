package dev.trainingjob.operator.reconciler;

import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.EndingStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.SpecValidator;
import dev.trainingjob.operator.api.RunStatus;
import dev.trainingjob.operator.api.RunSummary;
import dev.trainingjob.operator.api.Timings;
import dev.trainingjob.operator.api.TrainingJobSpec;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.status.CostEstimate;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Runs: the declarative side of a job. A changed spec (a new metadata.generation whose spec differs in more than
 * spec.suspend) or a new value of the annotation trainingjob.dev/rerun is a new run: the current run gets the one stop path
 * (notice, grace, outputs collected), its summary goes to status.runs, and the next run starts, on the same machine with its
 * Python when spec.compute and spec.python did not change, else on a new one. spec.suspend stops the run the same way,
 * releases the machine and waits in Suspended; false again resumes it as its next attempt. Everything here only reads the
 * spec and metadata and writes status: the operator never writes what Argo CD syncs.
 */
final class Runs {
  /** status.runs keeps the newest this many. */
  static final int KEPT = 10;
  /** The reasons that end a run to make way for what the spec now asks. */
  static final Set<String> REASONS = Set.of(Reason.SpecChanged.name(), Reason.Rerun.name(), Reason.Suspended.name());
  private static final Duration NOW = Duration.ofMillis(10);
  private static final ObjectMapper CANONICAL = JsonMapper.builder()
      .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .build();

  private Runs() {}

  /**
   * Looks at what the spec and annotations ask before the phase's step runs. Empty when the step should run as usual; else
   * what this reconcile does instead (a stop decided, a machine released before the next run, a suspension waited out).
   */
  static Optional<StepResult> observe(JobContext ctx, ReleaseStep release, ProbeApplier probes) throws Exception {
    var status = ctx.status();
    var spec = ctx.job().getSpec();
    Long generation = ctx.job().getMetadata().getGeneration();
    String rerun = rerunAnnotation(ctx);
    if (status.run == null) {
      // a new job, or one an earlier release admitted: its spec is the run's, whatever changed before
      status.run = begin(ctx, 1, rerun);
      if (status.phase != null && status.phase != Phase.Pending) {
        status.run.startedAt = ctx.job().getMetadata().getCreationTimestamp();
      }
    }
    RunStatus run = status.run;
    boolean changed = !Objects.equals(generation, run.generation) && !specDigest(spec).equals(run.specDigest);
    if (!changed && !Objects.equals(generation, run.generation)) {
      run.generation = generation; // spec.suspend alone, or an edit that wrote the same spec back: the same run goes on
    }
    boolean rerunAsked = rerun != null && !rerun.equals(run.rerun);
    Reason why = changed ? Reason.SpecChanged : rerunAsked ? Reason.Rerun : null;
    boolean suspend = Boolean.TRUE.equals(spec.suspend);
    Phase phase = status.phase;
    if (phase == Phase.Pending && releasing(ctx)) {
      // the machine of the run before is released first: a new launch must never meet the old one's release
      if (!release.release(ctx)) {
        return Optional.of(StepResult.checkAgainAfter(ctx.config().pollInterval()));
      }
      forgetMachine(ctx);
    }
    if (Boolean.TRUE.equals(run.reusesMachine) && run.admitted == null && why == null && !suspend) {
      // the next run on the machine of the run before is admitted under the budgets like any run, in a reconcile after the
      // one that settled the run before was written (so a lost write never settles one run's cost twice)
      if (BudgetAdmission.admit(ctx).isPresent()) {
        status.attempt = null; // waits holding nothing: the machine is released first (above, once written)
        run.reusesMachine = null;
        status.launch = (status.launch != null ? status.launch : 1) + 1;
        return Optional.of(StepResult.checkAgainAfter(NOW));
      }
      run.admitted = true;
    }
    if (why != null) {
      return newRunAsked(ctx, why, rerun, probes);
    }
    if (suspend) {
      return suspendAsked(ctx, probes);
    }
    if (phase == Phase.Suspended) {
      // an ec2 instance is terminated before anything resumes: a new launch must never meet the old one
      if (!letGo(ctx)) {
        return Optional.of(StepResult.checkAgainAfter(ctx.config().pollInterval()));
      }
      return Optional.of(resume(ctx));
    }
    return Optional.empty();
  }

  private static Optional<StepResult> newRunAsked(JobContext ctx, Reason why, String rerun, ProbeApplier probes)
      throws Exception {
    var status = ctx.status();
    String what = why == Reason.SpecChanged ? "the spec changed (generation " + ctx.job().getMetadata().getGeneration() + ")"
        : "a rerun was asked (" + Annotations.RERUN + ": " + rerun + ")";
    switch (status.phase) {
      case Pending -> {
        if (status.provider == null) {
          // nothing was launched yet: the waiting run simply takes the new spec
          int number = status.run.number == null ? 1 : status.run.number;
          status.run = begin(ctx, number, rerun);
          return Optional.empty();
        }
        return Optional.empty(); // released first (above), then admitted anew
      }
      case Provisioning -> {
        // no script ran: nothing to stop or collect; the machine being made is released before the new run's
        archive(ctx, "Stopped", why.name());
        next(ctx, why, rerun, what, false);
        return Optional.of(StepResult.checkAgainAfter(NOW));
      }
      case Bootstrapping, Running -> {
        if (notStartedHere(status)) {
          // the job directory still holds the run before, already collected: nothing of this run ran to stop
          status.ending = new EndingStatus(why.name(), what, ctx.nowText());
          afterStop(ctx);
          return Optional.of(StepResult.checkAgainAfter(NOW));
        }
        if (status.ending == null) {
          return Optional.of(StopPath.decide(ctx, why, what + ": the run is stopped (its outputs collected) and a new run starts"));
        }
        if (REASONS.contains(status.ending.reason)) {
          return Optional.of(StopPath.carryOut(ctx, probes));
        }
        return Optional.empty(); // another stop is under way: the job ends, then the new run starts
      }
      case Succeeded, Failed -> {
        if (!Conditions.isTrue(status, ConditionType.RELEASED) || status.budget != null && !Boolean.TRUE.equals(status.budget.settled)) {
          return Optional.empty(); // released (a debug hold ends for it) and settled first, by the final phase's step
        }
        archive(ctx, status.phase.name(), endedWith(status));
        next(ctx, why, rerun, what, false);
        return Optional.of(StepResult.checkAgainAfter(NOW));
      }
      case Suspended -> {
        archive(ctx, "Stopped", Reason.Suspended.name());
        // a machine that stays kept the job's directory: the next run clears it there, Python kept, when it can
        boolean keep = !ctx.provider().machinePerJob() && sameMachineSpec(ctx) && admissible(ctx);
        next(ctx, why, rerun, what, keep);
        return Optional.of(StepResult.checkAgainAfter(NOW));
      }
      default -> {
        return Optional.empty(); // Finishing: the run ends first, then the new run starts
      }
    }
  }

  private static Optional<StepResult> suspendAsked(JobContext ctx, ProbeApplier probes) throws Exception {
    var status = ctx.status();
    String what = "spec.suspend is true";
    switch (status.phase) {
      case Pending -> {
        if (status.provider != null && !Conditions.isTrue(status, ConditionType.RELEASED)) {
          return Optional.empty();
        }
        suspended(ctx, what + ": nothing was launched; the job waits until spec.suspend is false");
        return Optional.of(StepResult.done());
      }
      case Provisioning -> {
        Attempts.suspend(ctx);
        suspended(ctx, what + ": the machine being made is released; the job resumes when spec.suspend is false");
        return Optional.of(StepResult.checkAgainAfter(NOW));
      }
      case Bootstrapping, Running -> {
        if (notStartedHere(status)) {
          status.ending = new EndingStatus(Reason.Suspended.name(), what, ctx.nowText());
          afterStop(ctx);
          return Optional.of(StepResult.checkAgainAfter(NOW));
        }
        if (status.ending == null) {
          return Optional.of(StopPath.decide(ctx, Reason.Suspended, what + ": the run is stopped (checkpoint and outputs synced) "
              + "and its machine released until spec.suspend is false"));
        }
        if (REASONS.contains(status.ending.reason)) {
          return Optional.of(StopPath.carryOut(ctx, probes));
        }
        return Optional.empty();
      }
      case Suspended -> {
        return Optional.of(letGo(ctx) ? StepResult.done() : StepResult.checkAgainAfter(ctx.config().pollInterval()));
      }
      default -> {
        return Optional.empty(); // Finishing ends, and an ended run stays as it ended
      }
    }
  }

  /**
   * The run was stopped for a reason of this class and its outputs collected (FinishStep): suspended, or the next run starts
   * (on the same machine when it can).
   */
  static void afterStop(JobContext ctx) {
    var status = ctx.status();
    String reason = status.ending.reason;
    if (Reason.Suspended.name().equals(reason)) {
      String message = status.ending.message + Outputs.summary(ctx);
      Attempts.suspend(ctx);
      suspended(ctx, message);
      return;
    }
    Reason why = StopPath.reasonOf(reason);
    String what = status.ending.message;
    archive(ctx, "Stopped", reason);
    boolean sameMachine = status.instance != null && sameMachineSpec(ctx) && !Boolean.TRUE.equals(ctx.job().getSpec().suspend)
        && admissible(ctx);
    next(ctx, why, rerunAnnotation(ctx), what, sameMachine);
  }

  /**
   * The machine went away, or did not answer until the collect deadline, while the run was stopped for a new run or a
   * suspension: what could not be collected is said, the machine is not used again (released, not reused), and the new run or
   * the suspension goes on.
   */
  static StepResult machineLost(JobContext ctx, String message) {
    var status = ctx.status();
    Outputs.notSaved(ctx, "the machine went away or did not answer before they were collected");
    status.ending.message = message;
    if (status.run != null) {
      status.run.machineDigest = null; // never reused
    }
    if (ctx.timings().finished == null) {
      ctx.timings().finished = status.ending.at; // the collect deadline has passed with the stop's
    }
    ctx.moveTo(Phase.Finishing, Reason.Finishing, message + "; nothing to collect");
    return StepResult.next();
  }

  /** The spec asks for the machine and Python the run had, on the same provider. */
  private static boolean sameMachineSpec(JobContext ctx) {
    var status = ctx.status();
    return status.run != null && status.run.machineDigest != null && status.run.machineDigest.equals(machineDigest(ctx.job().getSpec()))
        && status.provider != null && Objects.equals(status.provider, ctx.requestedProvider());
  }

  /**
   * What admission would refuse or wait for is found there, not on the machine: a new spec that is not valid, names a Secret
   * or ConfigMap that is not there yet, an s3Uri its provider cannot copy to, or a cost cap with no price, goes through
   * Pending (its machine released) rather than straight to the machine it would hold while it cannot start.
   */
  private static boolean admissible(JobContext ctx) {
    var spec = ctx.job().getSpec();
    try {
      if (!SpecValidator.validate(spec).isEmpty() || ctx.bundles().missingReference(ctx.job()).isPresent()) {
        return false;
      }
      var provider = ctx.provider();
      if (spec.output != null && spec.output.s3Uri != null && provider.duties(ctx.job()).outputUri() == null) {
        return false;
      }
      return spec.limits == null || spec.limits.maxCostUSD == null || ctx.prices().worstCase(ctx.job(), provider.name()).isPresent();
    } catch (RuntimeException unknown) {
      return false; // admission says what it is
    }
  }

  /** A run on the machine of the run before that has not cleared its job directory yet: nothing of it ran there. */
  private static boolean notStartedHere(TrainingJobStatus status) {
    return status.run != null && Boolean.TRUE.equals(status.run.reusesMachine) && status.ending == null;
  }

  /**
   * Suspended: an ec2 instance is released (looked up by the job's tags, so one launched just before the suspension is found
   * too); a host or local machine is only let go, the job's directory, Python and checkpoint staying there. True once done.
   */
  private static boolean letGo(JobContext ctx) throws Exception {
    var status = ctx.status();
    if (status.provider != null && ctx.provider().machinePerJob() && !Conditions.isTrue(status, ConditionType.RELEASED)) {
      if (!new ReleaseStep().release(ctx)) {
        return false;
      }
    }
    if (status.instance != null) {
      ctx.closeConnections();
      CostEstimate.apply(ctx.job(), ctx.prices(), ctx.now());
      status.instance = null;
      status.attachCommand = null;
    }
    return true;
  }

  private static void suspended(JobContext ctx, String message) {
    var status = ctx.status();
    ctx.timings().suspended = ctx.nowText();
    Conditions.set(status, ConditionType.SUSPENDED, true, Reason.Suspended, message, ctx.job().getMetadata().getGeneration(),
        ctx.nowText());
    ctx.moveTo(Phase.Suspended, Reason.Suspended, message);
  }

  /** spec.suspend is false again: the run goes on as its next attempt, on a machine asked for anew, from its checkpoint. */
  private static StepResult resume(JobContext ctx) {
    var status = ctx.status();
    var timings = ctx.timings();
    if (timings.suspended != null) {
      long away = Duration.between(Instant.parse(timings.suspended), ctx.now()).toSeconds();
      timings.suspendedSeconds = (timings.suspendedSeconds == null ? 0 : timings.suspendedSeconds) + Math.max(0, away);
      timings.suspended = null;
    }
    timings.attemptStarted = ctx.nowText(); // the pending deadline counts again from here
    timings.released = null;
    status.conditions.removeIf(c -> ConditionType.RELEASED.equals(c.type));
    String message = "spec.suspend is false: attempt " + Attempts.current(status) + " starts"
        + (status.provider == null ? "" : " on a machine from provider " + status.provider) + ", from the checkpoint";
    Conditions.set(status, ConditionType.SUSPENDED, false, Reason.Resumed, message, ctx.job().getMetadata().getGeneration(),
        ctx.nowText());
    ctx.moveTo(status.provider == null ? Phase.Pending : Phase.Provisioning, Reason.Resumed, message);
    return StepResult.checkAgainAfter(NOW);
  }

  /** The next run: status begins again (status.runs and what the operator acted on stay), on the machine held or a new one. */
  private static void next(JobContext ctx, Reason why, String rerun, String what, boolean sameMachine) {
    var before = ctx.status();
    int number = (before.run == null || before.run.number == null ? 1 : before.run.number) + 1;
    TrainingJobStatus s = new TrainingJobStatus();
    s.phase = before.phase; // so the move below is logged, and told in an Event, as from where the job was
    s.shard = before.shard; // the next run is the same shard's: it holds the machine
    s.runs = before.runs;
    s.interruptRequest = before.interruptRequest;
    s.releaseRequest = releaseAnnotation(ctx); // a debug hold of the run that ended does not end the next run's
    s.observedGeneration = before.observedGeneration;
    s.run = begin(ctx, number, rerun);
    Timings timings = new Timings();
    timings.attemptStarted = ctx.nowText();
    s.timings = timings;
    if (sameMachine) {
      // the machine, its Python environment and the checkpoint stay; the job directory is cleared before the new files go up
      s.provider = before.provider;
      s.compute = before.compute;
      s.instance = before.instance;
      s.attempt = 1;
      s.launch = before.launch;
      s.run.reusesMachine = true; // and admitted under the budgets on the next look (observe), once this is written
      timings.provisioned = before.timings == null ? null : before.timings.provisioned;
      ctx.job().setStatus(s);
      String on = s.instance == null ? "provider " + s.provider + "'s machine" : "the same machine"
          + (s.instance.id == null ? "" : " " + s.instance.id);
      ctx.moveTo(s.instance == null ? Phase.Provisioning : Phase.Bootstrapping, why, what + "; run " + number + " starts on "
          + on + ", with its Python environment");
      return;
    }
    // released first (observe, in Pending), then admitted and provisioned anew; a launch token the last run used is not used again
    s.provider = before.provider;
    s.compute = before.compute;
    s.instance = before.instance;
    s.launch = (before.launch != null ? before.launch : Attempts.current(before)) + 1;
    if (Conditions.isTrue(before, ConditionType.RELEASED) || before.provider == null) {
      s.provider = null;
      s.compute = null;
      s.instance = null;
    }
    ctx.job().setStatus(s);
    ctx.moveTo(Phase.Pending, why, what + "; run " + number + " starts"
        + (s.provider == null ? "" : " once the last run's machine is released"));
  }

  /** Pending with the machine of an earlier run still held: it is released before anything else. */
  private static boolean releasing(JobContext ctx) {
    var status = ctx.status();
    return status.provider != null && status.attempt == null && !Conditions.isTrue(status, ConditionType.RELEASED);
  }

  private static void forgetMachine(JobContext ctx) {
    var status = ctx.status();
    status.provider = null;
    status.compute = null;
    status.instance = null;
    status.attachCommand = null;
    status.conditions.removeIf(c -> ConditionType.RELEASED.equals(c.type));
    if (status.timings != null) {
      status.timings.released = null;
    }
  }

  /** The summary of the run that ends, at the top of status.runs. */
  private static void archive(JobContext ctx, String phase, String reason) {
    var status = ctx.status();
    CostEstimate.apply(ctx.job(), ctx.prices(), ctx.now());
    RunSummary r = new RunSummary();
    r.number = status.run == null ? null : status.run.number;
    r.generation = status.run == null ? null : status.run.generation;
    r.phase = phase;
    r.reason = reason;
    r.exitCode = status.exitCode;
    r.startedAt = status.startedAt != null ? status.startedAt : status.run == null ? null : status.run.startedAt;
    r.finishedAt = status.finishedAt != null ? status.finishedAt : ctx.nowText();
    r.costUSD = status.cost == null ? null : status.cost.totalUSD;
    r.outputUri = status.outputs != null && status.outputs.uri != null ? status.outputs.uri
        : status.outputUri != null ? status.outputUri
        : status.outputs != null && status.outputs.directory != null && status.outputs.collected != null
            && !status.outputs.collected.isEmpty() ? status.outputs.directory : null;
    List<RunSummary> runs = new ArrayList<>();
    runs.add(r);
    if (status.runs != null) {
      runs.addAll(status.runs);
    }
    status.runs = new ArrayList<>(runs.subList(0, Math.min(KEPT, runs.size())));
    if (status.budget != null && !Boolean.TRUE.equals(status.budget.settled)) {
      // what the run cost replaces its reservation now; the next run is admitted with a reservation of its own
      ctx.budgets().settle(ctx.job(), r.costUSD == null ? 0 : r.costUSD);
      status.budget.settled = true;
    }
  }

  private static String endedWith(TrainingJobStatus status) {
    var c = Conditions.find(status, status.phase == Phase.Failed ? ConditionType.FAILED : ConditionType.COMPLETE);
    return c == null ? status.phase.name() : c.reason;
  }

  private static RunStatus begin(JobContext ctx, int number, String rerun) {
    var spec = ctx.job().getSpec();
    RunStatus run = new RunStatus();
    run.number = number;
    run.generation = ctx.job().getMetadata().getGeneration();
    run.specDigest = specDigest(spec);
    run.machineDigest = machineDigest(spec);
    run.rerun = rerun;
    run.startedAt = ctx.nowText();
    run.outputPaths = spec.output == null || spec.output.paths == null ? null : List.copyOf(spec.output.paths);
    return run;
  }

  /** True when a new run waits for the current one to end: a debug hold ends for it. */
  static boolean newRunWaiting(JobContext ctx) {
    var run = ctx.status().run;
    if (run == null) {
      return false;
    }
    String rerun = rerunAnnotation(ctx);
    return rerun != null && !rerun.equals(run.rerun) || !Objects.equals(ctx.job().getMetadata().getGeneration(), run.generation)
        && !specDigest(ctx.job().getSpec()).equals(run.specDigest);
  }

  private static String releaseAnnotation(JobContext ctx) {
    var annotations = ctx.job().getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(Annotations.RELEASE);
  }

  private static String rerunAnnotation(JobContext ctx) {
    var annotations = ctx.job().getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(Annotations.RERUN);
    return value == null || value.isBlank() ? null : value;
  }

  /** The fields read live by the run in progress: changing them is not a new run. */
  static final List<String> LIVE_FIELDS = List.of("suspend", "limits", "retry");

  /**
   * What the run runs, canonical: two specs that mean the same have the same digest. spec.suspend, spec.limits and spec.retry
   * are left out: the run in progress reads them as they are now (a longer maxRuntimeSeconds or debug hold, a raised cap
   * within the budget's reservation, more retries), so changing them never restarts anything.
   */
  static String specDigest(TrainingJobSpec spec) {
    ObjectNode tree = CANONICAL.valueToTree(spec);
    LIVE_FIELDS.forEach(tree::remove);
    return digest(tree);
  }

  /** spec.compute and spec.python: what the machine and its Python environment are made from. */
  static String machineDigest(TrainingJobSpec spec) {
    ObjectNode tree = CANONICAL.createObjectNode();
    tree.set("compute", CANONICAL.valueToTree(spec.compute));
    tree.set("python", CANONICAL.valueToTree(spec.python));
    return digest(tree);
  }

  private static String digest(Object tree) {
    try {
      byte[] json = CANONICAL.writeValueAsBytes(CANONICAL.treeToValue((ObjectNode) tree, Object.class));
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json)).substring(0, 16);
    } catch (Exception e) {
      throw new IllegalStateException("cannot digest the spec", e);
    }
  }
}
