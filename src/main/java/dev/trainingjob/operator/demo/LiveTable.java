package dev.trainingjob.operator.demo;

import dev.trainingjob.operator.api.TrainingJob;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The demo's table of a job: redrawn in place on a terminal, printed only when it changes elsewhere.
 */
public final class LiveTable {
  private static final String FORMAT = "%-10s %-14s %-9s %-7s %-8s %-7s %-6s";
  private final PrintWriter out;
  private final boolean terminal;
  private String lastRow;
  private boolean headerShown;

  public LiveTable(PrintWriter out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  public void show(TrainingJob job) {
    if (!headerShown) {
      out.println(String.format(FORMAT, "NAME", "PHASE", "PROGRESS", "EPOCH", "LOSS", "COST", "AGE"));
      headerShown = true;
    }
    String row = row(job);
    if (terminal) {
      if (lastRow != null) {
        out.print("\u001b[1A\u001b[2K"); // up one line, clear it
      }
      out.println(row);
    } else if (!row.equals(lastRow)) {
      out.println(row);
    }
    out.flush();
    lastRow = row;
  }

  public void finish() {
    out.flush();
  }

  static String row(TrainingJob job) {
    var s = job.getStatus();
    // created and not yet looked at by the operator: Pending, as Kubernetes calls an accepted object that has not started
    String phase = s == null || s.phase == null ? "Pending" : s.phase.name();
    var p = s == null ? null : s.progress;
    String progress = p == null || p.summary == null ? "-" : p.summary;
    String epoch = p == null || p.epoch == null ? "-" : Math.round(p.epoch) + (p.totalEpochs == null ? "" : "/" + p.totalEpochs);
    Map<String, Double> metrics = p == null ? null : p.metrics;
    String loss = metrics == null || metrics.get("loss") == null ? "-" : String.format("%.4f", metrics.get("loss"));
    String cost = s == null || s.cost == null ? "-" : s.cost.summary;
    return String.format(FORMAT, job.getMetadata().getName(), phase, progress, epoch, loss, cost, age(job));
  }

  private static String age(TrainingJob job) {
    String created = job.getMetadata().getCreationTimestamp();
    if (created == null) {
      return "-";
    }
    long s = Math.max(0, Duration.between(Instant.parse(created), Instant.now()).toSeconds());
    return s < 120 ? s + "s" : (s / 60) + "m";
  }
}
