package dev.trainingjob.operator.status;

import dev.trainingjob.operator.api.ProgressStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Turns a progress record (from the progress file or parsed from the log) into status.progress. */
public final class ProgressRecords {
  private ProgressRecords() {}

  /** A record from TRAININGJOB_PROGRESS_FILE: epoch, epochs, step, steps, percent; other numbers are metrics. */
  public static ProgressStatus fromRecord(Map<String, Object> record) {
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

  /** The short text of the PROGRESS column. */
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

  /** At the pace since the script started, when it will be done; null without a percentage or a start. */
  static String eta(ProgressStatus p, String scriptStarted, Instant now) {
    if (p.percent == null || p.percent <= 0 || p.percent >= 100 || scriptStarted == null) {
      return null;
    }
    Duration elapsed = Duration.between(Instant.parse(scriptStarted), now);
    long remainingMs = (long) (elapsed.toMillis() * (100 - p.percent) / p.percent);
    return now.plusMillis(remainingMs).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** Same progress, whenever it was seen: a repeated record must not move updatedAt (nor cause a write). */
  static boolean same(ProgressStatus a, ProgressStatus b) {
    return Objects.equals(a.percent, b.percent) && Objects.equals(a.epoch, b.epoch)
        && Objects.equals(a.totalEpochs, b.totalEpochs) && Objects.equals(a.step, b.step)
        && Objects.equals(a.totalSteps, b.totalSteps) && Objects.equals(a.metrics, b.metrics)
        && Objects.equals(a.source, b.source);
  }
}
