package dev.trainingjob.operator.bench;

import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
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
 * The real SSH path at N jobs on the local provider (its in-process sshd, a login of its own per job, screen and python on
 * this machine), at the production defaults: one job alone first (the ideal: what one job takes from creation to Succeeded),
 * then N created at once (after a warm-up batch of BENCH_WARMUP (30) five-second jobs, not counted: an operator that has run
 * a while, its JIT done), each a python script that sleeps BENCH_SCRIPT_S (60 s) and prints when it exits. Measured: all done
 * against the ideal, the steady window (every job Running, none exited yet: CPU, status writes, reconciles), the exits
 * noticed (from the script's own clock to a watcher seeing the job leave Running), SSH sessions and threads, and what the
 * reconcile threads waited on, sampled every 20 ms (the ramp apart). Run with {@code bench/scale-ssh.sh}; asserts nothing.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class SshScaleBench {
  @TempDir
  Path tmp;

  private static String script(long seconds) {
    return "import time\ntime.sleep(" + seconds + ")\nprint(\"exited_at\", repr(time.time()), flush=True)\n";
  }

  @Test
  void runningJobsOverSshOnTheLocalProvider() throws Exception {
    List<Integer> sizes = List.of(System.getProperty("bench.jobs", "150").split(",")).stream()
        .map(String::strip).map(Integer::parseInt).toList();
    long scriptSeconds = Long.getLong("bench.script", 60);
    Path out = Path.of("target", "bench-scale-ssh.txt");
    Files.createDirectories(out.getParent());
    StringBuilder table = new StringBuilder("| jobs | all done s (ideal: one alone) | ratio | operator CPU s per job-minute, steady "
        + "(whole run; process whole run) | reconcile p50 / p99 s (steady; whole run p99) | status writes per job-minute (steady) "
        + "| exit noticed p50 / p99 / max s | Running after create p50 / max s | SSH sessions | threads now / peak "
        + "| reconcile threads waiting on a lock (samples; ramp / after) | load avg |\n"
        + "|---:|---|---:|---|---|---:|---|---|---:|---|---|---|\n");
    for (int n : sizes) {
      String row;
      try {
        row = run(n, scriptSeconds);
      } catch (Throwable e) {
        row = "| " + n + " | did not finish: " + e.toString().replace('\n', ' ') + " |";
      }
      table.append(row).append('\n');
      System.out.println(row);
      Files.writeString(out, table);
    }
    System.out.print(table);
  }

  private String run(int n, long scriptSeconds) throws Exception {
    var meters = new ScaleMeter.RecordingRegistry();
    OperatorConfig config = OperatorConfig.defaults().with(c -> {
      c.defaultProvider = "local";
      c.localProvider = true;
      c.metricsPort = -1;
      c.outputDir = tmp.resolve("outputs-" + n);
      c.localWorkRoot = tmp.resolve("local-" + n);
    });
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      OperatorRuntime operator = startWith(api, config, meters);
      try (var phases = new ScaleMeter.Phases(api)) {
        var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
        // a warm operator, as one that has run for a while: a first batch of short jobs (not counted) has the JIT compile
        // the SSH, SFTP and API paths, which a freshly started JVM otherwise compiles during the burst (measured: its
        // compiler threads busy for most of the ramp, two fifths of the operator's CPU there)
        int warmUp = Integer.getInteger("bench.warmup", 30);
        for (int i = 0; i < warmUp; i++) {
          jobs.resource(Jobs.inline("warm-" + i, "train.py", Map.of("train.py", script(5)))).create();
        }
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(100))
            .until(() -> phases.ended.keySet().stream().filter(k -> k.startsWith("warm-")).count() >= warmUp);
        // the ideal: one job alone, the same script
        long t0 = System.nanoTime();
        jobs.resource(Jobs.inline("alone", "train.py", Map.of("train.py", script(scriptSeconds)))).create();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(50)).until(() -> phases.ended.containsKey("alone"));
        double ideal = (System.nanoTime() - t0) / 1e9;

        ScaleMeter.THREADS.resetPeakThreadCount();
        var ramp = new ScaleMeter.LockWatch();
        var cpuStart = new ScaleMeter.Cpu();
        var machineStart = ScaleMeter.MachineCpu.now();
        long start = System.nanoTime();
        Instant createdAt = Instant.now();
        double loadStart = ScaleMeter.loadAverage();
        ExecutorService creators = Executors.newFixedThreadPool(4, r -> new Thread(r, "bench-create"));
        List<Future<?>> created = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          String name = "job-" + i;
          created.add(creators.submit(() -> jobs.resource(Jobs.inline(name, "train.py", Map.of("train.py", script(scriptSeconds))))
              .create()));
        }
        for (Future<?> f : created) {
          f.get();
        }
        creators.shutdown();
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100))
            .until(() -> phases.running.keySet().stream().filter(k -> k.startsWith("job-")).count() >= n);
        ramp.close();
        String rampMachine = ScaleMeter.MachineCpu.now().since(machineStart, (System.nanoTime() - start) / 1e9);
        var rampJvm = new ScaleMeter.Cpu().since(cpuStart);
        var after = new ScaleMeter.LockWatch();
        Instant allRunning = Instant.now();
        Instant firstRunning = phases.running.entrySet().stream().filter(e -> e.getKey().startsWith("job-"))
            .map(Map.Entry::getValue).min(Instant::compareTo).orElseThrow();
        // steady: every job Running until the first could exit (the first to run, a script's length later; a second early)
        Instant steadyEnd = firstRunning.plusSeconds(scriptSeconds - 1);
        var steadyCpu = new ScaleMeter.Cpu();
        long steadyWrites = ScaleMeter.statusWrites(api);
        long from = System.nanoTime();
        int sshPort = jobs.withName("job-0").get().getStatus().instance.sshPort;
        int sessions = 0;
        int threadsNow = 0;
        String steady;
        Map<String, Double> steadyBy = Map.of();
        String steadyTop = "";
        if (steadyEnd.isAfter(allRunning.plusSeconds(5))) {
          await().pollDelay(Duration.between(Instant.now(), steadyEnd)).atMost(Duration.ofSeconds(scriptSeconds + 5)).until(() -> true);
          long to = System.nanoTime();
          var cpuEnd = new ScaleMeter.Cpu();
          steadyBy = cpuEnd.since(steadyCpu);
          steadyTop = cpuEnd.top(steadyCpu, 15);
          double jobMinutes = n * (to - from) / 60e9;
          long writes = ScaleMeter.statusWrites(api) - steadyWrites;
          List<Double> rec = meters.reconcileSeconds(from, to);
          sessions = establishedTo(sshPort);
          threadsNow = ScaleMeter.THREADS.getThreadCount();
          steady = String.format("%.4f|%.3f / %.3f|%.2f|%.0f s", ScaleMeter.Cpu.operator(steadyBy) / jobMinutes,
              ScaleMeter.percentile(rec, 0.5), ScaleMeter.percentile(rec, 0.99), writes / jobMinutes, (to - from) / 1e9);
        } else {
          sessions = establishedTo(sshPort);
          threadsNow = ScaleMeter.THREADS.getThreadCount();
          steady = "no steady window (the ramp outlasted the first script)|-|-|-";
        }
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100))
            .until(() -> phases.ended.keySet().stream().filter(k -> k.startsWith("job-")).count() >= n);
        double total = (System.nanoTime() - start) / 1e9;
        after.close();
        var cpuAll = new ScaleMeter.Cpu().since(cpuStart);
        double loadEnd = ScaleMeter.loadAverage();
        List<Double> noticed = new ArrayList<>();
        List<Double> toRunning = new ArrayList<>();
        long succeeded = 0;
        for (int i = 0; i < n; i++) {
          String name = "job-" + i;
          TrainingJob job = phases.last.get(name);
          if (job.getStatus().phase == Phase.Succeeded) {
            succeeded++;
          }
          job.getStatus().logTail.stream().filter(l -> l.startsWith("exited_at ")).findFirst().ifPresent(line -> {
            double exited = Double.parseDouble(line.substring("exited_at ".length()).strip());
            Instant left = phases.leftRunning.get(name);
            noticed.add(left.toEpochMilli() / 1000.0 - exited);
          });
          phases.running.computeIfPresent(name, (k, v) -> {
            toRunning.add(Duration.between(createdAt, v).toMillis() / 1000.0);
            return v;
          });
        }
        List<Double> rec = meters.reconcileSeconds(start, System.nanoTime());
        String ramped = phaseTimes(createdAt, n, phases) + "\nramp CPU: " + rampMachine + "; this JVM " + rampJvm;
        double jobMinutesAll = n * scriptSeconds / 60.0;
        String[] s = steady.split("\\|");
        Files.writeString(Path.of("target", "bench-scale-ssh-" + n + ".log"), String.format(
            "ideal %.1f s, all done %.1f s, succeeded %d of %d, exits read %d%nsteady cpu by group: %s%nsteady top threads: %s%n"
                + "whole-run cpu by group: %s%nramp: %s%nafter: %s%nreconciles whole run %d%nramp by phase, seconds p50 / p90 / max: %s%n",
            ideal, total, succeeded, n, noticed.size(), steadyBy, steadyTop, cpuAll, ramp.summary(), after.summary(), rec.size(),
            ramped));
        return String.format("| %d | %.1f (%.1f) | %.2f | %s (%.4f; %.4f) | %s (%.3f) | %s | %.2f / %.2f / %.2f | %.1f / %.1f | %d "
                + "| %d / %d | %d / %d (monitor blocks %d / %d) | %.1f-%.1f |",
            n, total, ideal, total / ideal, s[0], ScaleMeter.Cpu.operator(cpuAll) / jobMinutesAll,
            cpuAll.get("process") / jobMinutesAll, s[1], ScaleMeter.percentile(rec, 0.99), s[2],
            ScaleMeter.percentile(noticed, 0.5), ScaleMeter.percentile(noticed, 0.99), ScaleMeter.percentile(noticed, 1.0),
            ScaleMeter.percentile(toRunning, 0.5), ScaleMeter.percentile(toRunning, 1.0), sessions, threadsNow,
            ScaleMeter.THREADS.getPeakThreadCount(), ramp.lockSamples, after.lockSamples, ramp.monitorBlocks, after.monitorBlocks,
            loadStart, loadEnd);
      } finally {
        operator.close();
      }
    }
  }

  /**
   * Where each job's way to Running went, from its status.timings: creation (the bench's instant) to admitted, to a
   * machine (provisioned), to SSH ready, to bootstrapped (the driver started), to seen Running.
   */
  private static String phaseTimes(Instant createdAt, int n, ScaleMeter.Phases phases) {
    String[] names = {"admitted", "provisioned", "sshReady", "bootstrapped", "Running"};
    List<List<Double>> gaps = new ArrayList<>();
    for (int k = 0; k < names.length; k++) {
      gaps.add(new ArrayList<>());
    }
    for (int i = 0; i < n; i++) {
      String name = "job-" + i;
      TrainingJob job = phases.last.get(name);
      var t = job == null || job.getStatus() == null ? null : job.getStatus().timings;
      Instant running = phases.running.get(name);
      String[] at = {t == null ? null : t.admitted, t == null ? null : t.provisioned, t == null ? null : t.sshReady,
          t == null ? null : t.bootstrapped, running == null ? null : running.toString()};
      for (int k = 0; k < names.length; k++) {
        // each gap where both ends are known (the local provider, say, has no admission to time)
        Instant from = k == 0 ? createdAt : at[k - 1] == null ? null : Instant.parse(at[k - 1]);
        if (from != null && at[k] != null) {
          gaps.get(k).add(Duration.between(from, Instant.parse(at[k])).toMillis() / 1000.0);
        }
      }
    }
    StringBuilder out = new StringBuilder();
    for (int k = 0; k < names.length; k++) {
      List<Double> g = gaps.get(k);
      out.append(String.format("%s→%s %.2f / %.2f / %.2f (%d); ", k == 0 ? "created" : names[k - 1], names[k],
          ScaleMeter.percentile(g, 0.5), ScaleMeter.percentile(g, 0.9), ScaleMeter.percentile(g, 1.0), g.size()));
    }
    return out.toString();
  }

  /** The production assembly (SSH client, local provider), with the bench's registry for the reconcile durations. */
  private static OperatorRuntime startWith(EmbeddedKubernetes api, OperatorConfig config, ScaleMeter.RecordingRegistry meters) {
    return Assembly.start(api.client(), config, meters);
  }

  /** Established TCP connections to the local sshd's port (each an SSH session of the operator's client). */
  private static int establishedTo(int port) throws java.io.IOException {
    String hex = String.format(":%04X", port);
    int n = 0;
    for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(file);
      if (!Files.exists(p)) {
        continue;
      }
      for (String line : Files.readAllLines(p)) {
        String[] f = line.strip().split("\\s+");
        if (f.length > 3 && f[1].endsWith(hex) && "01".equals(f[3])) {
          n++; // the server's end of each established connection
        }
      }
    }
    return n;
  }
}
