package dev.trainingjob.operator.remote;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One snapshot of a job on its machine, as the probe script reports it.
 *
 * <p>The protocol with driver.sh (its header is the other half). The driver writes, each file whole:
 * <ul>
 *   <li>{@code state}: one word, {@link State}: bootstrapping, running, syncing, exited; probe.sh reports
 *       absent before the job was uploaded and started, and starting before the driver wrote one.
 *   <li>{@code reason_code}: one word, {@link ExitReason}, why the driver finished: {@code exited},
 *       {@code interrupted}, {@code spot-interrupted}, {@code bootstrap-failed:STEP} (the script never ran; STEP is one of setup,
 *       guard, git, python, mode, venv, pip, miniforge, conda, launch; shutdown from drivers before the
 *       guard), {@code sync-failed}.
 *   <li>{@code detail}: text for people that goes with the code, shown and never parsed: for
 *       bootstrap-failed what the driver was doing, for sync-failed what failed and where to.
 *   <li>{@code exit_code}: the script's exit status, or the driver's own when the script never ran.
 * </ul>
 * The last three are written once, exit_code last, and a rerun of the driver never overwrites them.
 * A word this side does not know (a newer driver's) reads as {@link State#UNKNOWN} or
 * {@link ExitReason.Kind#UNKNOWN} rather than failing the probe.
 *
 * @param state the driver's state
 * @param exitCode the entrypoint's exit status once written
 * @param sessionAlive whether the screen session still exists
 * @param reason why the driver finished; {@link ExitReason#NONE} until it recorded that
 * @param detail the text that goes with the reason, for people (null when none)
 * @param logTail the last lines of output.log
 * @param progress the last progress record, as parsed JSON (null when none)
 * @param disk disk usage of the file system holding the job (null when unknown)
 * @param gpus one entry per GPU when nvidia-smi exists
 * @param uptimeSeconds the machine's uptime
 * @param attempt which attempt the job directory holds (start.sh writes it; null from a directory started before attempts)
 */
public record ProbeResult(
    State state,
    Integer exitCode,
    boolean sessionAlive,
    ExitReason reason,
    String detail,
    List<String> logTail,
    Map<String, Object> progress,
    Disk disk,
    List<Gpu> gpus,
    Double uptimeSeconds,
    Integer attempt) {

  public ProbeResult(State state, Integer exitCode, boolean sessionAlive, ExitReason reason, String detail, List<String> logTail,
      Map<String, Object> progress, Disk disk, List<Gpu> gpus, Double uptimeSeconds) {
    this(state, exitCode, sessionAlive, reason, detail, logTail, progress, disk, gpus, uptimeSeconds, null);
  }

  public ProbeResult {
    state = state == null ? State.ABSENT : state;
    reason = reason == null ? ExitReason.NONE : reason;
  }

  /** The driver's state file as probe.sh reports it. */
  public enum State {
    /** Nothing was started for the job. */
    ABSENT("absent"),
    /** Started, but the driver has not written its state yet. */
    STARTING("starting"),
    BOOTSTRAPPING("bootstrapping"),
    RUNNING("running"),
    SYNCING("syncing"),
    EXITED("exited"),
    /** A word this operator does not know, from a newer driver. */
    UNKNOWN("unknown");

    private final String word;

    State(String word) {
      this.word = word;
    }

    public String word() {
      return word;
    }

    /** The state a word names; {@link #ABSENT} for none, {@link #UNKNOWN} for one not known here. */
    public static State of(String word) {
      if (word == null || word.isEmpty()) {
        return ABSENT;
      }
      for (State s : values()) {
        if (s != UNKNOWN && s.word.equals(word)) {
          return s;
        }
      }
      return UNKNOWN;
    }
  }

  /**
   * Why the driver finished, from its reason code.
   *
   * @param kind what happened
   * @param step for {@link Kind#BOOTSTRAP_FAILED}, the step that failed (a word such as pip or git, open
   *     ended so that a newer driver's step still reads as a bootstrap failure); null otherwise
   */
  public record ExitReason(Kind kind, String step) {
    /** No reason recorded (yet). */
    public static final ExitReason NONE = new ExitReason(Kind.NONE, null);
    public static final ExitReason EXITED = new ExitReason(Kind.EXITED, null);
    public static final ExitReason INTERRUPTED = new ExitReason(Kind.INTERRUPTED, null);
    public static final ExitReason SYNC_FAILED = new ExitReason(Kind.SYNC_FAILED, null);
    public static final ExitReason SPOT_INTERRUPTED = new ExitReason(Kind.SPOT_INTERRUPTED, null);
    public static final ExitReason UNKNOWN = new ExitReason(Kind.UNKNOWN, null);

    private static final String BOOTSTRAP_FAILED_PREFIX = "bootstrap-failed:";
    private static final Pattern STEP = Pattern.compile("[a-z][a-z0-9-]{0,31}");

    public enum Kind {
      NONE,
      /** The script ran and exited by itself; its exit code says how it went. */
      EXITED,
      /** The script ran and was interrupted (the notice from stop.sh, a person's Ctrl-C, a signal). */
      INTERRUPTED,
      /** The script ran and was stopped by a spot interruption notice: the machine is about to go away. */
      SPOT_INTERRUPTED,
      /** The script never ran: preparing its files or Python failed. */
      BOOTSTRAP_FAILED,
      /** The script exited, but copying its outputs to object storage failed. */
      SYNC_FAILED,
      /** A code this operator does not know, from a newer driver. */
      UNKNOWN
    }

    public ExitReason {
      if (kind == null) {
        throw new IllegalArgumentException("an exit reason needs a kind");
      }
      if ((kind == Kind.BOOTSTRAP_FAILED) != (step != null)) {
        throw new IllegalArgumentException("a step goes with bootstrap-failed, and only with it: " + kind + " " + step);
      }
      if (step != null && !STEP.matcher(step).matches()) {
        throw new IllegalArgumentException("not a step word: " + step);
      }
    }

    public static ExitReason bootstrapFailed(String step) {
      return new ExitReason(Kind.BOOTSTRAP_FAILED, step);
    }

    /** Reads a reason code exactly as the driver writes it: null or empty is {@link #NONE}, anything else not known is {@link #UNKNOWN}. */
    public static ExitReason parse(String code) {
      if (code == null || code.isEmpty()) {
        return NONE;
      }
      switch (code) {
        case "exited":
          return EXITED;
        case "interrupted":
          return INTERRUPTED;
        case "sync-failed":
          return SYNC_FAILED;
        case "spot-interrupted":
          return SPOT_INTERRUPTED;
        default:
          break;
      }
      if (code.startsWith(BOOTSTRAP_FAILED_PREFIX)) {
        String step = code.substring(BOOTSTRAP_FAILED_PREFIX.length());
        if (STEP.matcher(step).matches()) {
          return bootstrapFailed(step);
        }
      }
      return UNKNOWN;
    }

    /** The code word the driver writes for this reason ("unknown" and "" for the two this side makes up). */
    public String code() {
      return switch (kind) {
        case NONE -> "";
        case EXITED -> "exited";
        case INTERRUPTED -> "interrupted";
        case BOOTSTRAP_FAILED -> BOOTSTRAP_FAILED_PREFIX + step;
        case SYNC_FAILED -> "sync-failed";
        case SPOT_INTERRUPTED -> "spot-interrupted";
        case UNKNOWN -> "unknown";
      };
    }
  }

  public record Disk(long usedBytes, long totalBytes) {
    public double usedPercent() {
      return totalBytes == 0 ? 0 : 100.0 * usedBytes / totalBytes;
    }
  }

  public record Gpu(String name, Double utilizationPercent, Long memoryUsedMiB, Long memoryTotalMiB) {}

  public boolean exited() {
    return state == State.EXITED && exitCode != null;
  }
}
