package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.MachineUsage;
import dev.trainingjob.operator.api.ProgressStatus;
import dev.trainingjob.operator.api.TrainingJobStatus;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.progress.LogProgress;
import dev.trainingjob.operator.redact.LogRedactor;
import dev.trainingjob.operator.remote.ProbeResult;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Mirrors one probe into status: the log tail (bounded, secrets masked), progress (from the
 * progress file, else parsed from the output) with an ETA, and disk and GPU use.
 */
public final class ProbeStatus {
  static final int LOG_TAIL_LINES = 20;
  static final int LOG_LINE_CHARS = 500;
  static final int LOG_TAIL_BYTES = 8 * 1024;
  public static final double DISK_PRESSURE_PERCENT = 90.0;

  private ProbeStatus() {}

  /**
   * Applies a probe to the status.
   *
   * @param secretValues the values of the Secrets the job names, masked wherever they appear in the log
   */
  public static void apply(TrainingJobStatus status, ProbeResult probe, Collection<String> secretValues, Instant now,
      Long generation) {
    // masked before anything reads it: progress metrics come from these lines too, and a metric is shown in status
    List<String> lines = probe.logTail() == null ? List.of() : LogRedactor.redact(probe.logTail(), secretValues);
    boolean active = false;
    if (probe.logTail() != null) {
      List<String> tail = tail(lines);
      active = !tail.equals(status.logTail == null ? List.of() : status.logTail);
      status.logTail = tail;
    }
    boolean fromFile = probe.progress() != null && !probe.progress().isEmpty();
    Map<String, Object> record = fromFile ? probe.progress() : LogProgress.parse(lines);
    if (!record.isEmpty()) {
      ProgressStatus progress = ProgressRecords.fromRecord(record);
      progress.source = fromFile ? "progressFile" : "log";
      if (status.progress == null || !ProgressRecords.same(status.progress, progress)) {
        progress.updatedAt = now.toString();
        active = true;
        progress.eta = ProgressRecords.eta(progress, status.timings == null ? null : status.timings.bootstrapped, now);
        progress.etaSummary = progress.eta == null ? null : left(now, Instant.parse(progress.eta));
        status.progress = progress;
        if (status.timings == null || status.timings.firstProgress == null) {
          Lifecycle.timings(status).firstProgress = now.toString();
        }
      }
    }
    if (active || status.timings == null || status.timings.lastActivity == null) {
      // a new output line or progress record (spec.limits.stallSeconds counts from here)
      Lifecycle.timings(status).lastActivity = now.toString();
    }
    usage(status, probe, now, generation);
  }

  /** The driver's detail sentence as status and Events may show it: secrets and credentials masked. */
  public static String redacted(String detail, Collection<String> secretValues) {
    return LogRedactor.redact(detail, secretValues);
  }

  /** The last lines, each cut to a length, all within a byte budget: status stays small whatever the script prints. */
  static List<String> tail(List<String> lines) {
    List<String> out = new ArrayList<>();
    int bytes = 0;
    for (int i = lines.size() - 1; i >= 0 && out.size() < LOG_TAIL_LINES; i--) {
      String line = lines.get(i);
      if (line.length() > LOG_LINE_CHARS) {
        line = line.substring(0, LOG_LINE_CHARS) + "…";
      }
      bytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
      if (bytes > LOG_TAIL_BYTES) {
        break;
      }
      out.add(0, line);
    }
    return out;
  }

  private static void usage(TrainingJobStatus status, ProbeResult probe, Instant now, Long generation) {
    if (probe.disk() == null && (probe.gpus() == null || probe.gpus().isEmpty())) {
      return;
    }
    MachineUsage u = new MachineUsage();
    if (probe.disk() != null) {
      u.diskUsedBytes = probe.disk().usedBytes();
      u.diskTotalBytes = probe.disk().totalBytes();
      u.diskUsedPercent = Math.round(probe.disk().usedPercent() * 10) / 10.0;
      boolean pressure = u.diskUsedPercent > DISK_PRESSURE_PERCENT;
      // a stable message: the exact figures are in status.usage, and a condition that changed each probe would be written each probe
      Conditions.set(status, ConditionType.DISK_PRESSURE, pressure, pressure ? Reason.DiskAlmostFull : Reason.DiskOK,
          (pressure ? "More" : "Less") + " than " + (int) DISK_PRESSURE_PERCENT + "% of the job's file system ("
              + gib(u.diskTotalBytes) + ") is used", generation, now.toString());
    }
    if (probe.gpus() != null && !probe.gpus().isEmpty()) {
      u.gpus = new ArrayList<>();
      for (ProbeResult.Gpu g : probe.gpus()) {
        MachineUsage.Gpu gpu = new MachineUsage.Gpu();
        gpu.name = g.name();
        gpu.utilizationPercent = g.utilizationPercent();
        gpu.memoryUsedMiB = g.memoryUsedMiB();
        gpu.memoryTotalMiB = g.memoryTotalMiB();
        u.gpus.add(gpu);
      }
    }
    status.usage = u;
  }

  private static String gib(long bytes) {
    return String.format(Locale.ROOT, "%.1f GiB", bytes / 1024.0 / 1024 / 1024);
  }

  /** The time until {@code eta} in a few characters, as kubectl shows ages: 45s, 12m, 3h5m, 2d4h. */
  static String left(Instant now, Instant eta) {
    long s = Math.max(0, java.time.Duration.between(now, eta).toSeconds());
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m";
    }
    if (s < 86400) {
      return (s / 3600) + "h" + (s % 3600 / 60 == 0 ? "" : (s % 3600 / 60) + "m");
    }
    return (s / 86400) + "d" + (s % 86400 / 3600 == 0 ? "" : (s % 86400 / 3600) + "h");
  }
}
