package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.FailureStatus;
import dev.trainingjob.operator.api.FailureStatus.Category;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads why a script failed from what the operator saw of it (the log tail, already masked; the exit code; the
 * disk): the kind of failure, the line that shows it, and what to try. A pure function of those, so each kind
 * is tested against real output (src/test/resources/failures).
 *
 * <p>A traceback's last exception line speaks first (warnings, and other ranks' noise, around it do not); without
 * a traceback, the most recent line that shows a known kind; without one, the disk reading and the signal; else a
 * ScriptError with the exception line, or the last line the script printed.
 */
public final class FailureDiagnosis {
  private FailureDiagnosis() {}

  /** Whether the script ran at all, and how it ended, as the driver recorded it. */
  public enum Ending { EXITED, INTERRUPTED, BOOTSTRAP_FAILED }

  private record Kind(Category category, Pattern evidence, String hint) {}

  /** Checked in this order on each line, from the last line up. */
  private static final List<Kind> KINDS = List.of(
      new Kind(Category.GpuOutOfMemory, Pattern.compile(
          "(?i)CUDA out of memory|OutOfMemoryError: CUDA|CUDA error: out of memory|CUBLAS_STATUS_ALLOC_FAILED"
              + "|RESOURCE_EXHAUSTED: Out of memory|ResourceExhaustedError.*OOM|HIP out of memory"),
          "the GPU ran out of memory: a smaller batch (or gradient accumulation), mixed precision, gradient checkpointing, "
              + "or an instance type whose GPU has more memory (spec.compute.ec2.instanceType)"),
      new Kind(Category.NcclError, Pattern.compile("NCCL error|ncclSystemError|ncclUnhandledCudaError|ncclInternalError"
              + "|ncclInvalidUsage|ncclRemoteError|DistBackendError"),
          "a collective between GPUs or machines failed: run with NCCL_DEBUG=INFO in spec.env for details; between machines, "
              + "check that they reach each other on every port"),
      new Kind(Category.DiskFull, Pattern.compile("No space left on device|\\[Errno 28\\]|ENOSPC|Disk quota exceeded"),
          "the disk is full: a larger volume (spec.compute.ec2.volumeSizeGiB), fewer or smaller checkpoints, or outputs "
              + "written somewhere with room"),
      new Kind(Category.MissingModule, Pattern.compile("ModuleNotFoundError: |ImportError: |No module named "),
          "a module the script imports is not installed: add its package to spec.python.requirements"),
      new Kind(Category.OutOfMemory, Pattern.compile("(^|\\W)MemoryError\\b|Unable to allocate .* for an array"
              + "|Out of memory: Kill|oom-kill|std::bad_alloc|Cannot allocate memory"),
          "the machine ran out of memory: a smaller batch, fewer data-loader workers, or an instance type with more memory"));

  /** The line that says why a bootstrap step failed: pip's, conda's, apt's, git's, the aws CLI's, the shell's. */
  private static final Pattern BOOTSTRAP_ERROR = Pattern.compile(
      "^ERROR: |^error: |PackagesNotFoundError|ResolvePackageNotFound|UnsatisfiableError|CondaHTTPError"
          + "|No matching distribution found|Could not find a version|^E: |^fatal: |^fatal error: |An error occurred \\("
          + "|command not found");

  /** What to try when a bootstrap step failed, by the driver's step word. */
  private static final Map<String, String> BOOTSTRAP_HINTS = Map.of(
      "preflight", "the outputs could not be copied to spec.output.s3Uri, so the script was not started: the image needs the "
          + "aws CLI (the Deep Learning AMIs and Amazon Linux have it), and the instance's role (--ec2-instance-profile, or the "
          + "namespace's) needs s3:PutObject under that prefix",
      "git", "the clone failed: check spec.script.git.url and ref, and spec.script.git.credentialsSecret for a private "
          + "repository",
      "guard", "the machine's dead-man's switch was not armed at boot: check that the image runs cloud-init");
  private static final String REQUIREMENTS_HINT = "the script never ran: the line above is what pip or conda refused; check "
      + "spec.python.requirements (and spec.python.packages for conda), their names and versions";
  /** A traceback's exception line: a (dotted) name ending in Error, Exception, Exit or Interrupt, maybe a message. */
  private static final Pattern EXCEPTION_LINE = Pattern.compile(
      "^[A-Za-z_][\\w.]*(Error|Exception|Exit|Interrupt|Failure)(: .*)?$");

  private static final Pattern RANK_PREFIX = Pattern.compile("^\\[(?:rank|default)\\d+\\]:\\s*");
  private static final Pattern SHELL_REPORT = Pattern.compile("driver\\.sh: line \\d+: ");

  private static final Map<Integer, String> SIGNALS = Map.ofEntries(Map.entry(1, "SIGHUP"), Map.entry(2, "SIGINT"),
      Map.entry(3, "SIGQUIT"), Map.entry(4, "SIGILL"), Map.entry(6, "SIGABRT"), Map.entry(7, "SIGBUS"), Map.entry(8, "SIGFPE"),
      Map.entry(9, "SIGKILL"), Map.entry(11, "SIGSEGV"), Map.entry(13, "SIGPIPE"), Map.entry(15, "SIGTERM"),
      Map.entry(24, "SIGXCPU"), Map.entry(25, "SIGXFSZ"));

  /** Disk use from which a failure without other evidence is read as a full disk. */
  static final double FULL_DISK_PERCENT = 99.0;

  /**
   * Why a script (or its bootstrap) failed.
   *
   * @param logTail the last lines it printed, masked
   * @param exitCode its exit status; above 128 a signal ended it
   * @param ending how the driver recorded its end
   * @param diskUsedPercent the last probe's disk reading, or null
   * @param step for a bootstrap failure, the driver's step word (pip, git, preflight...); null otherwise
   */
  public static FailureStatus diagnose(List<String> logTail, Integer exitCode, Ending ending, Double diskUsedPercent,
      String step) {
    // "[rank0]: " and the like, which torchrun puts before every line of a rank, are not part of what it said
    List<String> lines = logTail == null ? List.of()
        : logTail.stream().map(l -> RANK_PREFIX.matcher(l.strip()).replaceFirst("")).filter(l -> !l.isEmpty()).toList();
    FailureStatus f = new FailureStatus();
    f.exitCode = exitCode;
    f.signal = exitCode != null && exitCode > 128 ? SIGNALS.get(exitCode - 128) : null;
    if (ending == Ending.BOOTSTRAP_FAILED) {
      f.category = Category.BootstrapFailed;
      f.line = last(lines, BOOTSTRAP_ERROR);
      f.hint = f.line != null && f.line.contains("externally-managed-environment")
          ? "this Python refuses pip installs outside a virtual environment (PEP 668: Ubuntu 24.04, Debian 12): set "
              + "spec.python.bootstrap to venv"
          : BOOTSTRAP_HINTS.getOrDefault(step == null ? "" : step, REQUIREMENTS_HINT);
      return f;
    }
    // a traceback's own exception speaks first: warnings and other ranks' noise above or below it do not
    String exception = last(lines, EXCEPTION_LINE);
    if (exception != null) {
      Kind kind = kindOf(exception);
      if (kind != null) {
        return with(f, kind.category(), exception, kind.hint());
      }
    } else {
      for (int i = lines.size() - 1; i >= 0; i--) {
        Kind kind = kindOf(lines.get(i));
        if (kind != null) {
          return with(f, kind.category(), lines.get(i), kind.hint());
        }
      }
    }
    if (diskUsedPercent != null && diskUsedPercent >= FULL_DISK_PERCENT) {
      return with(f, Category.DiskFull, exception, "the disk was " + Math.round(diskUsedPercent) + "% full at the last look: "
          + KINDS.get(2).hint().substring("the disk is full: ".length()));
    }
    if ("SIGKILL".equals(f.signal) && ending != Ending.INTERRUPTED) {
      return with(f, Category.OutOfMemory, exception, "killed by SIGKILL, as the kernel's OOM killer does: "
          + KINDS.get(4).hint().substring("the machine ran out of memory: ".length()));
    }
    if (ending == Ending.INTERRUPTED || exception != null && exception.startsWith("KeyboardInterrupt")) {
      return with(f, Category.Interrupted, exception, "the script was interrupted (a stop, or Ctrl-C in its screen session) "
          + "before it finished");
    }
    return with(f, Category.ScriptError, exception != null ? exception : lastOwnLine(lines),
        "the script failed: the line above is its last exception; the log tail has the traceback");
  }

  private static Kind kindOf(String line) {
    for (Kind kind : KINDS) {
      if (kind.evidence().matcher(line).find()) {
        return kind;
      }
    }
    return null;
  }

  /** The last line the script printed, not the shell's report of how it died ("driver.sh: line 9: 42 Segmentation fault"). */
  private static String lastOwnLine(List<String> lines) {
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (!SHELL_REPORT.matcher(lines.get(i)).find()) {
        return lines.get(i);
      }
    }
    return null;
  }

  /** The failure of a script stopped at spec.limits.maxRuntimeSeconds. */
  public static FailureStatus timeout(long maxRuntimeSeconds) {
    FailureStatus f = new FailureStatus();
    f.category = Category.Timeout;
    f.hint = "the script ran longer than spec.limits.maxRuntimeSeconds (" + maxRuntimeSeconds + "s): raise it, or "
        + "checkpoint so a rerun goes on from where it stopped";
    return f;
  }

  /**
   * The sentence for status.message and the Warning Event: the category first, then what happened, the evidence and
   * the signal. The hint stays in status.failure.hint (the Message column is one line).
   */
  public static String sentence(FailureStatus f, String what) {
    StringBuilder s = new StringBuilder(f.category.name()).append(": ").append(what);
    if (f.line != null) {
      s.append(": ").append(f.line);
    }
    if (f.signal != null) {
      s.append(" (").append(f.signal).append(")");
    }
    return s.toString();
  }

  private static FailureStatus with(FailureStatus f, Category category, String line, String hint) {
    f.category = category;
    f.line = line;
    f.hint = hint;
    return f;
  }

  private static String last(List<String> lines, Pattern pattern) {
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (pattern.matcher(lines.get(i)).find()) {
        return lines.get(i);
      }
    }
    return null;
  }
}
