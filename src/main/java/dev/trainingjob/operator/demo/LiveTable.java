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
  private String lastPhase;
  private boolean headerShown;

  public LiveTable(PrintWriter out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  /**
   * Shows the job's row: on a terminal the row is redrawn in place while the phase stays, and a phase change starts a new row,
   * so the phases the job went through stay on the screen; elsewhere a row is printed when it changes.
   */
  public void show(TrainingJob job) {
    if (!headerShown) {
      out.println(String.format(FORMAT, "NAME", "PHASE", "PROGRESS", "EPOCH", "LOSS", "COST", "AGE"));
      headerShown = true;
    }
    String row = row(job);
    String phase = phase(job);
    if (terminal) {
      if (lastRow != null && phase.equals(lastPhase)) {
        out.print("\u001b[1A\u001b[2K"); // up one line, clear it
      }
      out.println(row);
    } else if (!row.equals(lastRow)) {
      out.println(row);
    }
    out.flush();
    lastRow = row;
    lastPhase = phase;
  }

  /** A line under the rows so far (a hint); the next row starts below it. */
  public void note(String line) {
    out.println(line);
    out.flush();
    lastPhase = null; // the next row must not overwrite the note
  }

  public void finish() {
    out.flush();
  }

  static String row(TrainingJob job) {
    var s = job.getStatus();
    String phase = phase(job);
    var p = s == null ? null : s.progress;
    String progress = p == null || p.summary == null ? "-" : p.summary;
    String epoch = p == null || p.epoch == null ? "-" : Math.round(p.epoch) + (p.totalEpochs == null ? "" : "/" + p.totalEpochs);
    Map<String, Double> metrics = p == null ? null : p.metrics;
    String loss = metrics == null || metrics.get("loss") == null ? "-" : String.format("%.4f", metrics.get("loss"));
    String cost = s == null || s.cost == null ? "-" : s.cost.summary;
    return String.format(FORMAT, job.getMetadata().getName(), phase, progress, epoch, loss, cost, age(job));
  }

  /** Created and not yet looked at by the operator: Pending, as Kubernetes calls an accepted object that has not started. */
  static String phase(TrainingJob job) {
    var s = job.getStatus();
    return s == null || s.phase == null ? "Pending" : s.phase.name();
  }

  /**
   * When the job passed each milestone, in seconds from its creation, as one line; the milestones it did not pass are left
   * out. Null when it has none.
   */
  public static String timeline(TrainingJob job) {
    var t = job.getStatus() == null ? null : job.getStatus().timings;
    String created = job.getMetadata().getCreationTimestamp();
    if (t == null || created == null) {
      return null;
    }
    Instant start = Instant.parse(created);
    Map<String, String> milestones = new java.util.LinkedHashMap<>();
    milestones.put("machine up", t.provisioned);
    milestones.put("SSH ready", t.sshReady);
    milestones.put("script started", t.bootstrapped);
    milestones.put("script ended", t.finished);
    milestones.put("released", t.released);
    java.util.List<String> parts = new java.util.ArrayList<>();
    milestones.forEach((what, when) -> {
      if (when != null) {
        double seconds = Math.max(0, Duration.between(start, Instant.parse(when)).toMillis()) / 1000.0;
        parts.add(String.format(java.util.Locale.ROOT, "%s %.1fs", what, seconds));
      }
    });
    return parts.isEmpty() ? null : String.join(", ", parts);
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
