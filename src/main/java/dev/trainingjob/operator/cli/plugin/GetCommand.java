package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.ProgressStatus;
import dev.trainingjob.operator.api.TrainingJob;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "get", mixinStandardHelpOptions = true, description = "Lists TrainingJobs with a progress bar each.")
public final class GetCommand implements Callable<Integer> {
  @Mixin
  PluginOptions options;

  @Option(names = {"-A", "--all-namespaces"}, description = "Jobs in every namespace.")
  boolean all;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    try (var client = options.client()) {
      var resources = client.resources(TrainingJob.class);
      List<TrainingJob> jobs = all ? resources.inAnyNamespace().list().getItems()
          : resources.inNamespace(options.namespace(client)).list().getItems();
      print(jobs, all, Instant.now(), spec.commandLine().getOut());
      return 0;
    }
  }

  static void print(List<TrainingJob> jobs, boolean withNamespace, Instant now, PrintWriter out) {
    String format = (withNamespace ? "%-16s " : "%s") + "%-24s %-13s %-28s %-7s %-12s %-9s %s%n";
    out.printf(Locale.ROOT, format, withNamespace ? "NAMESPACE" : "", "NAME", "PHASE", "PROGRESS", "ETA", "TYPE", "COST", "AGE");
    for (TrainingJob j : jobs) {
      var s = j.getStatus();
      out.printf(Locale.ROOT, format, withNamespace ? j.getMetadata().getNamespace() : "", j.getMetadata().getName(),
          s == null || s.phase == null ? "" : s.phase, bar(s == null ? null : s.progress),
          s == null || s.progress == null || s.progress.etaSummary == null || s.phase == null || s.phase.isFinal() ? ""
              : s.progress.etaSummary,
          s == null || s.instance == null
              || s.instance.type == null ? "" : s.instance.type,
          s == null || s.cost == null ? "" : s.cost.summary, age(j.getMetadata().getCreationTimestamp(), now));
    }
    out.flush();
  }

  /** [#########-----------]  45%, or the summary (epoch 3) when no percent is known. */
  static String bar(ProgressStatus p) {
    if (p == null) {
      return "";
    }
    if (p.percent == null) {
      return p.summary == null ? "" : p.summary;
    }
    int filled = (int) Math.round(p.percent / 5);
    return "[" + "#".repeat(filled) + "-".repeat(20 - filled) + "] " + String.format(Locale.ROOT, "%3d%%", Math.round(p.percent));
  }

  static String age(String created, Instant now) {
    if (created == null) {
      return "";
    }
    Duration d = Duration.between(Instant.parse(created), now);
    if (d.toDays() > 0) return d.toDays() + "d";
    if (d.toHours() > 0) return d.toHours() + "h";
    if (d.toMinutes() > 0) return d.toMinutes() + "m";
    return Math.max(0, d.toSeconds()) + "s";
  }
}
