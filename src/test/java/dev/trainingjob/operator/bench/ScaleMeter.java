package dev.trainingjob.operator.bench;

import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * What the scale benchmarks measure, as one JVM holds the operator, the embedded API and (on the local provider) the
 * machines' SSH server: CPU by thread group (so the operator's own share is told from the API's and sshd's), the reconciles'
 * durations one by one, each job's phase changes as a watcher sees them, status writes, heap after GC, and what the
 * reconcile threads wait on.
 */
final class ScaleMeter {
  static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private ScaleMeter() {}

  /**
   * The reconcile threads seen so far: JOSDK names a thread of its executor ReconcilerExecutor-... only while it reconciles
   * (pool-N-thread-N otherwise), so each is known by its id once seen at work.
   */
  static final java.util.Set<Long> RECONCILE_THREADS = ConcurrentHashMap.newKeySet();

  static String group(long id, String thread) {
    if (thread.startsWith("ReconcilerExecutor")) {
      RECONCILE_THREADS.add(id);
    }
    return RECONCILE_THREADS.contains(id) ? "reconcile" : group(thread);
  }

  /** Which part of the process a thread belongs to, by its name. */
  static String group(String thread) {
    if (thread.startsWith("ReconcilerExecutor")) {
      return "reconcile";
    }
    if (thread.startsWith("probe-")) {
      return "probe";
    }
    if (thread.startsWith("sshd-SshClient")) {
      return "ssh-client";
    }
    if (thread.startsWith("sshd-SshServer") || thread.startsWith("sshd-") && !thread.contains("Client")
        || thread.startsWith("process reaper")) {
      return "machine-sshd"; // the local provider's SSH server and the JDK's reapers of its processes: the machines' side
    }
    if (thread.startsWith("vert.x")) {
      return "api-server"; // the embedded Kubernetes API
    }
    if (thread.startsWith("bench") || thread.equals("main") || thread.startsWith("scripted-machines")
        || thread.startsWith("surefire") || thread.startsWith("Attach") || thread.startsWith("Signal")) {
      return "bench";
    }
    if (thread.startsWith("HttpClient") || thread.startsWith("JdkHttpClientFactory") || thread.contains("informer")
        || thread.contains("Informer") || thread.startsWith("ForkJoinPool")) {
      return "api-client"; // the operator's Kubernetes client and its watches (the bench's watcher shares these names)
    }
    if (thread.startsWith("GC") || thread.startsWith("G1") || thread.startsWith("C1") || thread.startsWith("C2")
        || thread.startsWith("VM") || thread.contains("Compiler")) {
      return "jvm";
    }
    return "operator-other";
  }

  /** CPU nanoseconds of each live thread, by id, with its group. */
  static Map<Long, long[]> threadCpu() {
    Map<Long, long[]> cpu = new java.util.HashMap<>();
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null) {
        long t = THREADS.getThreadCpuTime(info.getThreadId());
        if (t >= 0) {
          cpu.put(info.getThreadId(), new long[] {t});
        }
      }
    }
    return cpu;
  }

  /** Thread CPU snapshot by group: what each group spent between two snapshots (threads born meanwhile count from 0). */
  static final class Cpu {
    final long processNanos = processCpuNanos();
    final long wallNanos = System.nanoTime();
    final Map<Long, Long> byThread = new java.util.HashMap<>();
    final Map<Long, String> groups = new java.util.HashMap<>();
    final Map<Long, String> names = new java.util.HashMap<>();

    Cpu() {
      for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
        if (info != null) {
          long t = THREADS.getThreadCpuTime(info.getThreadId());
          if (t >= 0) {
            byThread.put(info.getThreadId(), t);
            groups.put(info.getThreadId(), group(info.getThreadId(), info.getThreadName()));
            names.put(info.getThreadId(), info.getThreadName());
          }
        }
      }
    }

    /** Seconds of CPU each group spent since {@code before}, and "process" for the whole JVM (dead threads included). */
    Map<String, Double> since(Cpu before) {
      Map<String, Double> spent = new TreeMap<>();
      byThread.forEach((id, t) -> spent.merge(groups.get(id), (t - before.byThread.getOrDefault(id, 0L)) / 1e9, Double::sum));
      spent.put("process", (processNanos - before.processNanos) / 1e9);
      return spent;
    }

    /** The threads that spent the most since {@code before}, by name (digits folded): where the CPU went. */
    String top(Cpu before, int k) {
      Map<String, Double> spent = new java.util.HashMap<>();
      byThread.forEach((id, t) -> spent.merge(names.get(id).replaceAll("[0-9]+", "N"),
          (t - before.byThread.getOrDefault(id, 0L)) / 1e9, Double::sum));
      return spent.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(k)
          .map(e -> String.format("%s %.2f", e.getKey(), e.getValue())).collect(Collectors.joining(", "));
    }

    /** The operator's own CPU: every group but the API server, the machines' sshd and the bench. */
    static double operator(Map<String, Double> spent) {
      return spent.entrySet().stream().filter(e -> !List.of("process", "api-server", "machine-sshd", "bench").contains(e.getKey()))
          .mapToDouble(Map.Entry::getValue).sum();
    }
  }

  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /**
   * The whole machine's CPU seconds so far (every process: the local provider's machines too, whose processes the JVM's
   * own figures miss) and the processes started since boot, from /proc/stat; NaN and -1 where there is none.
   */
  record MachineCpu(double busySeconds, long forks, long jitMillis, long gcMillis) {
    static MachineCpu now() {
      long jit = ManagementFactory.getCompilationMXBean() == null ? -1 : ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
      long gc = ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
      try {
        double busy = Double.NaN;
        long forks = -1;
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat"))) {
          String[] f = line.trim().split("\\s+");
          if (f[0].equals("cpu")) {
            long ticks = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
              if (i != 4 && i != 5) { // idle and iowait are not work
                ticks += Long.parseLong(f[i]);
              }
            }
            busy = ticks / 100.0; // USER_HZ
          } else if (f[0].equals("processes")) {
            forks = Long.parseLong(f[1]);
          }
        }
        return new MachineCpu(busy, forks, jit, gc);
      } catch (java.io.IOException | RuntimeException e) {
        return new MachineCpu(Double.NaN, -1, jit, gc);
      }
    }

    String since(MachineCpu before, double seconds) {
      return String.format("machine CPU %.1f s in %.1f s (%.2f of %d cores), processes started %d; this JVM's JIT compilers "
              + "%.1f s, GC pauses %.1f s", busySeconds - before.busySeconds, seconds, (busySeconds - before.busySeconds) / seconds,
          Runtime.getRuntime().availableProcessors(), forks - before.forks, (jitMillis - before.jitMillis) / 1e3,
          (gcMillis - before.gcMillis) / 1e3);
    }
  }

  /** Heap in use after a full collection, in MiB. */
  static double heapAfterGcMiB() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
  }

  /** Status writes of TrainingJobs the API received so far (PUT or PATCH of .../trainingjobs/NAME/status). */
  static long statusWrites(EmbeddedKubernetes api) {
    return api.requests(r -> ("PUT".equals(r.method()) || "PATCH".equals(r.method()))
        && r.path().replaceFirst("\\?.*$", "").matches(".*/trainingjobs/[^/]+/status")).size();
  }

  static double percentile(Collection<Double> values, double q) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** The operator's registry, keeping every reconcile's duration with when it ended. */
  static final class RecordingRegistry extends PrometheusMeterRegistry {
    /** [end nanoTime, duration nanos] of each reconcile. */
    final List<long[]> reconciles = java.util.Collections.synchronizedList(new ArrayList<>());

    RecordingRegistry() {
      super(PrometheusConfig.DEFAULT);
    }

    @Override
    protected Timer newTimer(Meter.Id id, DistributionStatisticConfig config, PauseDetector pauses) {
      Timer timer = super.newTimer(id, config, pauses);
      return "trainingjob.reconcile.duration".equals(id.getName()) ? new Recorded(timer, reconciles) : timer;
    }

    /** Reconcile durations, in seconds, of those that ended between the two nanoTimes. */
    List<Double> reconcileSeconds(long from, long to) {
      synchronized (reconciles) {
        return reconciles.stream().filter(r -> r[0] >= from && r[0] <= to).map(r -> r[1] / 1e9).toList();
      }
    }
  }

  /** A timer that also keeps each duration it records. */
  private record Recorded(Timer timer, List<long[]> into) implements Timer {
    @Override
    public void record(long amount, TimeUnit unit) {
      into.add(new long[] {System.nanoTime(), unit.toNanos(amount)});
      timer.record(amount, unit);
    }

    @Override
    public <T> T record(Supplier<T> f) {
      long start = System.nanoTime();
      try {
        return f.get();
      } finally {
        record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public <T> T recordCallable(Callable<T> f) throws Exception {
      long start = System.nanoTime();
      try {
        return f.call();
      } finally {
        record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public void record(Runnable f) {
      long start = System.nanoTime();
      try {
        f.run();
      } finally {
        record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public long count() {
      return timer.count();
    }

    @Override
    public double totalTime(TimeUnit unit) {
      return timer.totalTime(unit);
    }

    @Override
    public double max(TimeUnit unit) {
      return timer.max(unit);
    }

    @Override
    public TimeUnit baseTimeUnit() {
      return timer.baseTimeUnit();
    }

    @Override
    public HistogramSnapshot takeSnapshot() {
      return timer.takeSnapshot();
    }

    @Override
    public Meter.Id getId() {
      return timer.getId();
    }
  }

  /** Each job's phase changes as a watcher of the API sees them, with when it saw them. */
  static final class Phases implements AutoCloseable {
    /** By job name: when it was first seen Running, and first seen past Running (Finishing, Succeeded, Failed). */
    final Map<String, Instant> running = new ConcurrentHashMap<>();
    final Map<String, Instant> leftRunning = new ConcurrentHashMap<>();
    final Map<String, Instant> ended = new ConcurrentHashMap<>();
    final Map<String, TrainingJob> last = new ConcurrentHashMap<>();
    private final KubernetesClient client;
    private final SharedIndexInformer<TrainingJob> informer;

    Phases(EmbeddedKubernetes api) {
      client = api.newClient("bench-watcher");
      informer = client.resources(TrainingJob.class).inNamespace("default").inform(new ResourceEventHandler<>() {
        @Override
        public void onAdd(TrainingJob job) {
          seen(job);
        }

        @Override
        public void onUpdate(TrainingJob before, TrainingJob job) {
          seen(job);
        }

        @Override
        public void onDelete(TrainingJob job, boolean unknown) {}
      });
    }

    private void seen(TrainingJob job) {
      Instant now = Instant.now();
      String name = job.getMetadata().getName();
      Phase phase = job.getStatus() == null ? null : job.getStatus().phase;
      if (phase == Phase.Running) {
        running.putIfAbsent(name, now);
      } else if (phase == Phase.Finishing || phase == Phase.Succeeded || phase == Phase.Failed) {
        running.putIfAbsent(name, now);
        leftRunning.putIfAbsent(name, now);
      }
      if (phase == Phase.Succeeded || phase == Phase.Failed) {
        ended.putIfAbsent(name, now);
        last.put(name, job);
      }
    }

    @Override
    public void close() {
      informer.close();
      client.close();
    }
  }

  /**
   * Samples the reconcile threads every 20 ms while on: what each is doing when it is not idle in the executor's queue, and
   * every sample in which one waited on a lock (BLOCKED on a monitor, or parked on a lock's synchronizer), with the frame.
   */
  static final class LockWatch implements AutoCloseable {
    final Map<String, Integer> waits = new ConcurrentHashMap<>();
    final Map<String, Integer> states = new ConcurrentHashMap<>();
    volatile int samples;
    volatile int lockSamples;
    private final AtomicBoolean on = new AtomicBoolean(true);
    private final Thread thread;
    private final Map<Long, Long> blockedAtStart = new ConcurrentHashMap<>();
    long monitorBlocks;

    LockWatch() {
      THREADS.setThreadContentionMonitoringEnabled(true);
      thread = new Thread(this::loop, "bench-lockwatch");
      thread.setDaemon(true);
      thread.start();
    }

    private void loop() {
      while (on.get()) {
        long[] ids = Arrays.stream(THREADS.getThreadInfo(THREADS.getAllThreadIds())).filter(i -> i != null
            && group(i.getThreadId(), i.getThreadName()).equals("reconcile")).mapToLong(ThreadInfo::getThreadId).toArray();
        for (ThreadInfo info : THREADS.getThreadInfo(ids, 16)) {
          if (info == null) {
            continue;
          }
          blockedAtStart.putIfAbsent(info.getThreadId(), info.getBlockedCount());
          String what = classify(info);
          if (what == null) {
            continue; // idle, waiting for work
          }
          samples++;
          states.merge(what.startsWith("LOCK") ? "lock" : what.startsWith("RUN") ? "running" : "waiting (I/O, a future)", 1,
              Integer::sum);
          if (what.startsWith("LOCK")) {
            lockSamples++;
            waits.merge(what, 1, Integer::sum);
          } else {
            states.merge("  " + what, 1, Integer::sum);
          }
        }
        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
      }
    }

    /** null: idle in the executor. */
    private static String classify(ThreadInfo info) {
      StackTraceElement[] stack = info.getStackTrace();
      boolean idle = Arrays.stream(stack).anyMatch(f -> f.getMethodName().equals("getTask")
          && f.getClassName().endsWith("ThreadPoolExecutor"));
      if (idle) {
        return null;
      }
      String frame = Arrays.stream(stack).filter(f -> f.getClassName().startsWith("dev.trainingjob")).findFirst()
          .or(() -> Arrays.stream(stack).filter(f -> !f.getClassName().matches("(java|jdk|sun)\\..*")).findFirst())
          .map(f -> f.getClassName().replaceFirst(".*\\.", "") + "." + f.getMethodName() + ":" + f.getLineNumber()).orElse("?");
      String lock = info.getLockName() == null ? "" : info.getLockName().replaceFirst("@.*", "");
      return switch (info.getThreadState()) {
        case BLOCKED -> "LOCK monitor " + lock + " at " + frame;
        case WAITING, TIMED_WAITING -> lock.contains("ReentrantLock") || lock.contains("ReentrantReadWriteLock")
            || lock.contains("Semaphore") ? "LOCK " + lock + " at " + frame : "WAIT " + lock + " at " + frame;
        default -> "RUN " + frame;
      };
    }

    @Override
    public void close() {
      on.set(false);
      try {
        thread.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (ThreadInfo info : THREADS.getThreadInfo(blockedAtStart.keySet().stream().mapToLong(Long::longValue).toArray())) {
        if (info != null) {
          monitorBlocks += info.getBlockedCount() - blockedAtStart.get(info.getThreadId());
        }
      }
    }

    String summary() {
      String top = waits.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(5)
          .map(e -> e.getValue() + "x " + e.getKey()).collect(Collectors.joining("; "));
      String busy = states.entrySet().stream().filter(e -> e.getKey().startsWith("  "))
          .sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(6)
          .map(e -> e.getValue() + "x " + e.getKey().strip()).collect(Collectors.joining("; "));
      String totals = states.entrySet().stream().filter(e -> !e.getKey().startsWith("  ")).map(Object::toString)
          .collect(Collectors.joining(", "));
      return String.format("busy samples %d (%s; most: %s); waiting on a lock in %d samples%s; monitor blocks (ThreadMXBean) %d",
          samples, totals, busy, lockSamples, top.isEmpty() ? "" : ": " + top, monitorBlocks);
    }
  }
}
