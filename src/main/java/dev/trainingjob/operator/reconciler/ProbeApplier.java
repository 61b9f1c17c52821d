package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ConditionType;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.status.Conditions;

import dev.trainingjob.operator.api.MachineUsage;
import dev.trainingjob.operator.api.ProgressStatus;
import dev.trainingjob.operator.progress.LogProgress;
import dev.trainingjob.operator.remote.ProbeResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Mirrors one probe into status: the log tail (bounded, secrets masked), progress (from the
 * progress file, else parsed from the output) with an ETA, and disk and GPU use.
 */
class ProbeApplier {
  static final int LOG_TAIL_LINES = 20;
  static final int LOG_LINE_CHARS = 500;
  static final int LOG_TAIL_BYTES = 8 * 1024;
  static final double DISK_PRESSURE_PERCENT = 90.0;

  /** The values of each job's Secret-backed environment, by uid: read once per job, not per probe. */
  private final Map<String, Set<String>> secrets = new ConcurrentHashMap<>();

  void apply(JobContext ctx, ProbeResult probe) {
    var status = ctx.status();
    List<String> lines = probe.logTail() == null ? List.of()
        : LogRedactor.redact(probe.logTail(), secrets.computeIfAbsent(ctx.job().getMetadata().getUid(),
            uid -> ctx.bundles().secretValues(ctx.job())));
    if (probe.logTail() != null) {
      status.logTail = tail(lines);
    }
    boolean fromFile = probe.progress() != null && !probe.progress().isEmpty();
    Map<String, Object> record = fromFile ? probe.progress() : LogProgress.parse(lines);
    if (!record.isEmpty()) {
      ProgressStatus progress = fromRecord(record);
      progress.source = fromFile ? "progressFile" : "log";
      if (status.progress == null || !sameProgress(status.progress, progress)) {
        progress.updatedAt = ctx.nowText();
        progress.eta = eta(ctx, progress);
        status.progress = progress;
        if (status.timings == null || status.timings.firstProgress == null) {
          ProvisionStep.timings(ctx).firstProgress = ctx.nowText();
        }
      }
    }
    usage(ctx, probe);
  }

  /** Forgets what it cached for a job (at release). */
  void forget(String uid) {
    secrets.remove(uid);
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

  /** At the pace since the script started, when it will be done. */
  private static String eta(JobContext ctx, ProgressStatus p) {
    var timings = ctx.status().timings;
    if (p.percent == null || p.percent <= 0 || p.percent >= 100 || timings == null || timings.bootstrapped == null) {
      return null;
    }
    Instant now = ctx.now();
    Duration elapsed = Duration.between(Instant.parse(timings.bootstrapped), now);
    long remainingMs = (long) (elapsed.toMillis() * (100 - p.percent) / p.percent);
    return now.plusMillis(remainingMs).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static void usage(JobContext ctx, ProbeResult probe) {
    var status = ctx.status();
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
          (pressure ? "More" : "Less") + " than " + (int) DISK_PRESSURE_PERCENT + "% of the job's file system (" + gib(u.diskTotalBytes)
              + ") is used", ctx.job().getMetadata().getGeneration(), ctx.nowText());
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

  /** A record from TRAININGJOB_PROGRESS_FILE: epoch, epochs, step, steps, percent; other numbers are metrics. */
  static ProgressStatus fromRecord(Map<String, Object> record) {
    ProgressStatus p = new ProgressStatus();
    Map<String, Double> metrics = new TreeMap<>();
    record.forEach((key, value) -> {
      if (!(value instanceof Number n)) {
        return;
      }
      switch (key) {
        case "epoch" -> p.epoch = n.doubleValue();
        case "epochs" -> p.totalEpochs = n.intValue();
        case "step" -> p.step = n.longValue();
        case "steps" -> p.totalSteps = n.longValue();
        case "percent" -> p.percent = n.doubleValue();
        default -> metrics.put(key, n.doubleValue());
      }
    });
    if (p.percent == null) {
      if (p.step != null && p.totalSteps != null && p.totalSteps > 0) {
        p.percent = 100.0 * p.step / p.totalSteps;
      } else if (p.epoch != null && p.totalEpochs != null && p.totalEpochs > 0) {
        p.percent = 100.0 * p.epoch / p.totalEpochs;
      }
    }
    if (p.percent != null) {
      p.percent = Math.min(100.0, Math.round(p.percent * 10) / 10.0);
    }
    p.metrics = metrics.isEmpty() ? null : metrics;
    p.summary = summary(p);
    return p;
  }

  static String summary(ProgressStatus p) {
    if (p.percent != null) {
      return Math.round(p.percent) + "%";
    }
    if (p.epoch != null && p.totalEpochs != null) {
      return "epoch " + (long) Math.floor(p.epoch) + "/" + p.totalEpochs;
    }
    if (p.step != null && p.totalSteps != null) {
      return "step " + p.step + "/" + p.totalSteps;
    }
    if (p.epoch != null) {
      return "epoch " + (long) Math.floor(p.epoch);
    }
    return null;
  }

  private static boolean sameProgress(ProgressStatus a, ProgressStatus b) {
    return Objects.equals(a.percent, b.percent) && Objects.equals(a.epoch, b.epoch)
        && Objects.equals(a.totalEpochs, b.totalEpochs) && Objects.equals(a.step, b.step)
        && Objects.equals(a.totalSteps, b.totalSteps) && Objects.equals(a.metrics, b.metrics)
        && Objects.equals(a.source, b.source);
  }
}
