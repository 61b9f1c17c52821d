package dev.trainingjob.operator.bench;

import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator side at N running jobs, with machines in memory (the scripted double, running by the clock: a wait on the
 * machine answers at the exit, as the SSH one does) and the production defaults (5 s probes, 15 s live-status writes, 10
 * reconcile and 32 probe threads). N jobs are created at once and run until told to exit; once all run, a steady window
 * (BENCH_WINDOW_S, 60 s) measures heap after GC, CPU, reconcile durations and status writes; then the scripts exit, spread
 * evenly over N/50 s (at least 10 s), and each job's exit is timed to the moment a watcher sees it leave Running.
 * Run with {@code bench/scale-in-memory.sh} (BENCH_JOBS=100,1000,5000); reports, asserts nothing.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class InMemoryScaleBench {
  @TempDir
  Path tmp;

  @Test
  void runningJobsWithMachinesInMemory() throws Exception {
    List<Integer> sizes = List.of(System.getProperty("bench.jobs", "100,1000,5000").split(",")).stream()
        .map(String::strip).map(Integer::parseInt).toList();
    Duration window = Duration.ofSeconds(Long.getLong("bench.window", 60));
    StringBuilder table = new StringBuilder();
    table.append("| jobs | heap after GC (MiB, whole JVM; per job KiB) | operator CPU s per job-minute (process) "
        + "| reconcile p50 / p99 s (window; whole run p99) | status writes per job-minute | exit noticed p50 / p99 / max s "
        + "| ramp to all Running s | threads | load avg |\n|---:|---|---|---|---:|---|---:|---:|---:|\n");
    Path out = Path.of("target", "bench-scale-in-memory.txt");
    Files.createDirectories(out.getParent());
    for (int n : sizes) {
      String row;
      try {
        row = run(n, window);
      } catch (Throwable e) {
        row = "| " + n + " | did not finish: " + e.toString().replace('\n', ' ') + " |";
      }
      table.append(row).append('\n');
      System.out.println(row);
      Files.writeString(out, table);
    }
    System.out.print(table);
  }

  private String run(int n, Duration window) throws Exception {
    var provider = new RecordingProvider("fake");
    provider.recordCalls = false;
    provider.looksBeforeRunning = 1;
    provider.releaseCallsNeeded = 1;
    var machines = new ScriptedRemoteHosts();
    machines.recordCalls = false;
    machines.runFor = Duration.ofHours(10); // until the bench says
    var meters = new ScaleMeter.RecordingRegistry();
    OperatorConfig config = OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "fake";
      c.metricsPort = -1;
      c.outputDir = tmp.resolve("outputs-" + n);
      c.reconcileThreads = Integer.getInteger("bench.reconcileThreads", c.reconcileThreads);
    });
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      double heapBefore = ScaleMeter.heapAfterGcMiB();
      OperatorRuntime operator = OperatorRuntime.start(api.client(), config, List.of(provider), Map.of(), machines, List.of(), meters);
      try (var phases = new ScaleMeter.Phases(api); var locks = new ScaleMeter.LockWatch()) {
        long start = System.nanoTime();
        var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
        ExecutorService creators = Executors.newFixedThreadPool(4, r -> new Thread(r, "bench-create"));
        List<Future<?>> created = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          String name = "job-" + i;
          created.add(creators.submit(() -> jobs.resource(Jobs.inline(name, "train.py", Map.of("train.py", "pass\n"))).create()));
        }
        for (Future<?> f : created) {
          f.get();
        }
        creators.shutdown();
        await().atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofMillis(200)).until(() -> phases.running.size() >= n);
        double ramp = (System.nanoTime() - start) / 1e9;
        // a probe interval to settle (the last jobs' first probes and waits), then the window
        await().pollDelay(config.probeInterval()).atMost(config.probeInterval().plusSeconds(5)).until(() -> true);
        var cpuBefore = new ScaleMeter.Cpu();
        long writesBefore = ScaleMeter.statusWrites(api);
        long from = System.nanoTime();
        double load = ScaleMeter.loadAverage();
        await().pollDelay(window).atMost(window.plusSeconds(5)).until(() -> true); // the window measured
        long to = System.nanoTime();
        long writes = ScaleMeter.statusWrites(api) - writesBefore;
        var cpuAfter = new ScaleMeter.Cpu();
        var cpu = cpuAfter.since(cpuBefore);
        String topThreads = cpuAfter.top(cpuBefore, 15);
        double load2 = ScaleMeter.loadAverage();
        double heap = ScaleMeter.heapAfterGcMiB();
        int threads = ScaleMeter.THREADS.getThreadCount();
        int waits = machines.openWaits();
        double jobMinutes = n * (to - from) / 60e9;
        List<Double> reconciles = meters.reconcileSeconds(from, to);
        // the exits, spread evenly
        double spread = Math.max(10, n / 50.0);
        Instant first = Instant.now().plusSeconds(1);
        Map<String, Instant> exits = new java.util.HashMap<>();
        Map<String, String> uids = new java.util.HashMap<>();
        machines.clearAnswers();
        var all = jobs.list().getItems();
        for (int i = 0; i < all.size(); i++) {
          TrainingJob job = all.get(i);
          Instant at = first.plusNanos((long) (spread * 1e9 * i / all.size()));
          machines.exitAt(job.getMetadata().getUid(), at);
          exits.put(job.getMetadata().getName(), at);
          uids.put(job.getMetadata().getName(), job.getMetadata().getUid());
        }
        await().atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofMillis(200)).until(() -> phases.ended.size() >= n);
        List<Double> noticed = exits.entrySet().stream()
            .map(e -> Duration.between(e.getValue(), phases.leftRunning.get(e.getKey())).toNanos() / 1e9).toList();
        // where the time went: the machine's answer (a wait open at the exit answers at once), then the operator to the API
        List<Double> answered = new ArrayList<>();
        List<Double> answeredToNoticed = new ArrayList<>();
        int unanswered = 0;
        for (var e : exits.entrySet()) {
          Instant a = machines.answeredAt(uids.get(e.getKey()));
          if (a == null || a.isBefore(e.getValue())) {
            unanswered++; // no wait open at the exit: a probe found it
            continue;
          }
          answered.add(Duration.between(e.getValue(), a).toNanos() / 1e9);
          answeredToNoticed.add(Duration.between(a, phases.leftRunning.get(e.getKey())).toNanos() / 1e9);
        }
        String path = String.format("exits a wait answered: %d (the rest, %d, found by a probe); exit -> answer p50 %.3f p99 %.3f; "
            + "answer -> seen leaving Running p50 %.3f p99 %.3f", answered.size(), unanswered, ScaleMeter.percentile(answered, 0.5),
            ScaleMeter.percentile(answered, 0.99), ScaleMeter.percentile(answeredToNoticed, 0.5),
            ScaleMeter.percentile(answeredToNoticed, 0.99));
        List<Double> allReconciles = meters.reconcileSeconds(start, System.nanoTime());
        long succeeded = phases.last.values().stream().filter(j -> j.getStatus().phase == dev.trainingjob.operator.api.Phase.Succeeded)
            .count();
        locks.close();
        System.out.printf("N=%d cpu by group %s; open waits in the window %d; reconciles in window %d; succeeded %d/%d%n", n, cpu,
            waits, reconciles.size(), succeeded, n);
        Files.writeString(Path.of("target", "bench-scale-in-memory-" + n + ".log"), String.format(
            "cpu by group (s, window of %.0f s): %s%nopen waits on machines in the window: %d%nreconciles in window: %d, whole run %d%n"
                + "succeeded %d of %d%nexits spread over %.0f s%nthreads by CPU in the window: %s%nreconcile threads, whole run: %s%n%s%n", (to - from) / 1e9, cpu,
            waits, reconciles.size(), allReconciles.size(), succeeded, n, spread, topThreads, locks.summary(), path));
        return String.format("| %d | %.0f (%.0f before the jobs; %.0f) | %.4f (%.4f) | %.3f / %.3f (%.3f) | %.2f | %.2f / %.2f / %.2f "
                + "| %.0f | %d | %.1f-%.1f |",
            n, heap, heapBefore, (heap - heapBefore) * 1024 / n, ScaleMeter.Cpu.operator(cpu) / jobMinutes,
            cpu.get("process") / jobMinutes, ScaleMeter.percentile(reconciles, 0.5), ScaleMeter.percentile(reconciles, 0.99),
            ScaleMeter.percentile(allReconciles, 0.99), writes / jobMinutes, ScaleMeter.percentile(noticed, 0.5),
            ScaleMeter.percentile(noticed, 0.99), ScaleMeter.percentile(noticed, 1.0), ramp, threads, load, load2);
      } finally {
        operator.close();
        machines.close();
      }
    }
  }
}
