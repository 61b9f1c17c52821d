package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.api.ProgressStatus;
import dev.trainingjob.operator.remote.ProbeResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Mirrors one probe into status: the log tail and the last progress record. */
class ProbeApplier {
  static final int LOG_TAIL_LINES = 20;

  void apply(JobContext ctx, ProbeResult probe) {
    var status = ctx.status();
    if (probe.logTail() != null) {
      List<String> lines = probe.logTail();
      status.logTail = new ArrayList<>(lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    }
    if (probe.progress() != null && !probe.progress().isEmpty()) {
      ProgressStatus progress = fromRecord(probe.progress());
      if (status.progress == null || !sameProgress(status.progress, progress)) {
        progress.updatedAt = ctx.nowText();
        status.progress = progress;
        if (status.timings == null || status.timings.firstProgress == null) {
          ProvisionStep.timings(ctx).firstProgress = ctx.nowText();
        }
      }
    }
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
      return "epoch " + Math.round(p.epoch) + "/" + p.totalEpochs;
    }
    if (p.step != null && p.totalSteps != null) {
      return "step " + p.step + "/" + p.totalSteps;
    }
    return null;
  }

  private static boolean sameProgress(ProgressStatus a, ProgressStatus b) {
    return java.util.Objects.equals(a.percent, b.percent) && java.util.Objects.equals(a.epoch, b.epoch)
        && java.util.Objects.equals(a.totalEpochs, b.totalEpochs) && java.util.Objects.equals(a.step, b.step)
        && java.util.Objects.equals(a.totalSteps, b.totalSteps) && java.util.Objects.equals(a.metrics, b.metrics);
  }
}
