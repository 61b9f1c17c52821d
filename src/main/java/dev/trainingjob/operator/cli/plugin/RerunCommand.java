package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.Annotations;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.status.Conditions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Starts a new run of the unchanged spec: sets the annotation trainingjob.dev/rerun to a new value (the time, RFC 3339 with
 * milliseconds, later than the value there). Any phase takes it: a running run gets the stop notice first (its outputs
 * collected), a finished one is simply followed by the next. Refused while an earlier rerun is not acted on yet
 * (status.run.rerun is not the annotation's value), so that two quick reruns never collapse into one without a word. Needs
 * only get and patch on trainingjobs.
 */
@Command(name = "rerun", mixinStandardHelpOptions = true,
    description = "Starts a new run of the unchanged spec (the annotation trainingjob.dev/rerun): a running run gets the stop "
        + "notice first, its outputs collected; a finished one is followed by the next run.")
public final class RerunCommand implements Callable<Integer> {
  private static final DateTimeFormatter RFC3339_MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  @Mixin
  PluginOptions options;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
  String name;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    return JobRequest.send(spec, options, name, Annotations.RERUN, job -> nextValue(asked(job), Instant.now()),
        RerunCommand::refusal, RerunCommand::done);
  }

  /** The annotation's new value: now, to the millisecond, and always after (so never equal to) a time already there. */
  static String nextValue(String current, Instant now) {
    Instant at = now.truncatedTo(ChronoUnit.MILLIS);
    if (current != null) {
      try {
        Instant before = Instant.parse(current).truncatedTo(ChronoUnit.MILLIS);
        if (!at.isAfter(before)) {
          at = before.plusMillis(1); // a clock behind the one that set it, or the same millisecond
        }
      } catch (DateTimeParseException notATime) {
        // set by hand: a time is a different value
      }
    }
    return RFC3339_MILLIS.format(at);
  }

  /** The rerun asked now, as the operator reads it (a blank value is none). */
  private static String asked(TrainingJob job) {
    Map<String, String> annotations = job.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(Annotations.RERUN);
    return value == null || value.isBlank() ? null : value;
  }

  static Optional<String> refusal(TrainingJob job) {
    var status = job.getStatus();
    if (status == null || status.phase == null) {
      return Optional.of("has no status yet: the operator has not started it, and its first run runs the spec as it is");
    }
    if (status.run == null) {
      return Optional.of("has no status.run yet (phase " + status.phase + "): the operator has not recorded its run; "
          + "ask again once it has");
    }
    String asked = asked(job);
    if (asked != null && !asked.equals(status.run.rerun)) {
      return Optional.of("already has a rerun the operator has not acted on yet (" + Annotations.RERUN + ": " + asked
          + "; status.run.rerun: " + (status.run.rerun == null ? "none" : status.run.rerun) + "); another now would be "
          + "the same rerun: ask again once run " + (number(job) + 1) + " has started");
    }
    return Optional.empty();
  }

  /** What the operator does with the rerun, from the job as it was when it was asked. */
  static String done(TrainingJob job) {
    var status = job.getStatus();
    int n = number(job);
    Long generation = job.getMetadata().getGeneration();
    if (generation != null && status.run.generation != null && status.run.generation < generation) {
      return "rerun requested; the changed spec (generation " + generation + ") already starts a new run after run " + n
          + ", which answers the rerun too";
    }
    boolean suspend = job.getSpec() != null && Boolean.TRUE.equals(job.getSpec().suspend);
    String next = "run " + (n + 1) + " of the unchanged spec starts" + (suspend ? " once spec.suspend is false" : "");
    var ending = status.ending;
    return "rerun requested; " + switch (status.phase) {
      case Pending -> "run " + n + " had not started yet (Pending): it starts afresh"
          + (suspend ? " once spec.suspend is false" : "");
      case Provisioning -> "the machine being made for run " + n + " is released and " + next;
      case Bootstrapping, Running -> ending != null
          ? "run " + n + " is already being stopped (" + ending.reason + "); then " + next
          : status.phase == Phase.Running
              ? "run " + n + " gets the stop notice first (the interrupt file, SIGTERM, the grace period; its outputs "
                  + "collected), then " + next
              : "run " + n + " is stopped while it is set up, then " + next;
      case Finishing -> "run " + n + " finishes first (its outputs collected), then " + next;
      case Succeeded, Failed -> "run " + n + " " + status.phase
          + (Conditions.isTrue(status, ConditionType.DEBUG_HOLD) ? " (its debug hold ends, the machine is released)" : "")
          + "; " + next;
      case Suspended -> next;
    };
  }

  private static int number(TrainingJob job) {
    var run = job.getStatus().run;
    return run == null || run.number == null ? 1 : run.number;
  }
}
