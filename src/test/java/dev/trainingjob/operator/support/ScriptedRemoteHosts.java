package dev.trainingjob.operator.support;

import dev.trainingjob.operator.remote.JobBundle;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.SshTarget;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A remote-host test double: after start, the job bootstraps for one probe, then runs for
 * {@code runningProbes} probes with progress, then exits with {@code exitCode}. Calls are recorded.
 *
 * <p>With {@link #runFor} set it runs by the clock instead, as a machine does: the script runs from its start until its
 * exit (its start plus {@code runFor}, or when {@link #exitAt} says), and a wait on the machine ({@code awaitChange})
 * completes the moment it exits, as the SSH wait does, holding no thread meanwhile.
 */
public final class ScriptedRemoteHosts implements RemoteHosts {
  public record Call(String method, String job) {}

  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> probesSinceStart = new ConcurrentHashMap<>();
  /** The attempt each job's directory holds, as start.sh records it. */
  private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
  /** The run each job directory was last cleared for (renew). */
  private final Map<String, String> renewedFor = new ConcurrentHashMap<>();
  /** When set, the exit code of each attempt (by number, from 1); otherwise {@link #exitCode} for all. */
  public volatile java.util.function.IntUnaryOperator exitCodeOf;
  private final Map<String, JobBundle> uploads = new ConcurrentHashMap<>();
  public volatile int runningProbes = 3;
  public volatile int exitCode = 0;
  /** Why the driver says it finished, and its text for people. */
  public volatile ProbeResult.ExitReason exitReason = ProbeResult.ExitReason.EXITED;
  public volatile String exitDetail = "the script exited";
  /** When set, a running job reports the same epoch and log on every probe: nothing new. */
  public volatile boolean unchanging = false;
  /** What a running job's probe reports of its disk (null: unknown) and its GPUs. */
  public volatile ProbeResult.Disk disk;
  public volatile List<ProbeResult.Gpu> gpus = List.of();
  /** When set, a stop ends the script: the next probe reports it interrupted (exit code 143), as the driver records it. */
  public volatile boolean stopEndsScript = false;
  private final java.util.Set<String> stopped = ConcurrentHashMap.newKeySet();
  /** When set, start.sh reports that screen is missing and cannot be installed (its exit status 10). */
  public volatile boolean screenMissing = false;
  /** What the machine says when screen is missing (the start script's stderr). */
  public volatile String screenMissingMessage = "GNU screen is not installed on this machine, and it could not be installed";
  /** When set, collect waits for it: a download that takes long. */
  public volatile java.util.concurrent.CountDownLatch collectGate;
  /** When set, the driver's session is gone while the script runs, with no exit record (a killed driver, a reboot). */
  public volatile boolean sessionDies = false;
  /**
   * The first probe that sees the exit record finds the session still open and the log without its last line (screen
   * flushes the log once a second, and at the session's end); the next sees both.
   */
  public volatile boolean exitSeenBeforeTheLogIsFlushed = false;
  private final java.util.Set<String> exitSeenEarly = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** When set, the debug hold cannot start (a job uploaded by an operator without hold.sh, a machine that stopped answering). */
  public volatile RuntimeException holdFails;
  /** When set, every probe fails with it (a machine that stopped answering). */
  public volatile RuntimeException probeFails;
  /**
   * When set, a probe made beside the reconciles (on one of the probe runner's threads, named probe-N) waits for it before it
   * answers: a slow machine, or one that hangs; the probes a reconcile makes itself (Bootstrapping's) answer at once.
   */
  public volatile java.util.concurrent.CountDownLatch probeGate;
  /** How many probes wait at {@link #probeGate} now. */
  public final AtomicInteger atTheGate = new AtomicInteger();

  /** When false, nothing is recorded (a benchmark's thousands of jobs, whose calls nobody reads). */
  public volatile boolean recordCalls = true;
  /** When set, jobs run by the clock (see the class comment): this long from their start unless {@link #exitAt} moves it. */
  public volatile java.time.Duration runFor;
  /** When each job's script started, and when it exits (by the clock). */
  private final Map<String, java.time.Instant> startedAt = new ConcurrentHashMap<>();
  private final Map<String, java.time.Instant> exitsAt = new ConcurrentHashMap<>();
  /** The waits on each job's machine not yet answered. */
  private final Map<String, java.util.Set<Wait>> waits = new ConcurrentHashMap<>();
  private volatile java.util.concurrent.ScheduledExecutorService clock;

  /** One wait on a job's machine: answered at the exit or at its bound, whichever comes first. */
  private final class Wait {
    final String uid;
    final JobRef job;
    final java.time.Instant bound;
    final java.util.concurrent.CompletableFuture<ProbeResult> answer = new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.ScheduledFuture<?> timer;

    Wait(String uid, JobRef job, java.time.Instant bound) {
      this.uid = uid;
      this.job = job;
      this.bound = bound;
    }

    /** (Re)sets the timer for whichever comes first, the exit or the bound. */
    synchronized void arm() {
      if (timer != null) {
        timer.cancel(false);
      }
      java.time.Instant exit = exitsAt.get(uid);
      java.time.Instant at = exit != null && exit.isBefore(bound) ? exit : bound;
      long delay = Math.max(0, java.time.Duration.between(java.time.Instant.now(), at).toNanos());
      timer = scheduler().schedule(this::answer, delay, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void answer() {
      answeredAt.putIfAbsent(uid, java.time.Instant.now());
      var set = waits.get(uid);
      if (set != null) {
        set.remove(this);
      }
      answer.complete(timedProbe(job));
    }
  }

  private java.util.concurrent.ScheduledExecutorService scheduler() {
    var s = clock;
    if (s == null) {
      synchronized (this) {
        if (clock == null) {
          clock = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "scripted-machines");
            t.setDaemon(true);
            return t;
          });
        }
        s = clock;
      }
    }
    return s;
  }

  /** With {@link #runFor} set: the job's script exits at {@code when} (a wait on its machine answers then). */
  public void exitAt(String uid, java.time.Instant when) {
    exitsAt.put(uid, when);
    var set = waits.get(uid);
    if (set != null) {
      set.forEach(Wait::arm);
    }
  }

  /** With {@link #runFor} set: when the job's script exits (null: it has not started). */
  public java.time.Instant exitsAt(String uid) {
    return exitsAt.get(uid);
  }

  /** When a wait on each job's machine last answered (the exit, or its bound), by uid. */
  private final Map<String, java.time.Instant> answeredAt = new ConcurrentHashMap<>();

  /** When a wait on the job's machine first answered (its exit, when the wait was open then), or null. */
  public java.time.Instant answeredAt(String uid) {
    return answeredAt.get(uid);
  }

  /** Forgets when the waits answered (a benchmark's exits come next). */
  public void clearAnswers() {
    answeredAt.clear();
  }

  /** How many waits on machines are open now. */
  public int openWaits() {
    return waits.values().stream().mapToInt(java.util.Set::size).sum();
  }

  private void record(Call call) {
    if (recordCalls) {
      calls.add(call);
    }
  }

  /** A probe of a job that runs by the clock: running until its exit, then exited. */
  private ProbeResult timedProbe(JobRef job) {
    String uid = job.uid();
    java.time.Instant started = startedAt.get(uid);
    if (started == null) {
      return new ProbeResult(ProbeResult.State.ABSENT, null, false, null, null, List.of(), null, null, List.of(), 1.0, null);
    }
    java.time.Instant now = java.time.Instant.now();
    java.time.Instant exit = exitsAt.get(uid);
    if (exit == null || now.isBefore(exit)) {
      long seconds = java.time.Duration.between(started, now).toSeconds();
      return new ProbeResult(ProbeResult.State.RUNNING, null, true, null, null, List.of("step " + seconds),
          Map.of("step", seconds, "loss", 1.0 / (seconds + 1)), disk, gpus, 3.0, attempts.get(uid));
    }
    int code = exitCodeOf == null ? exitCode : exitCodeOf.applyAsInt(attempts.getOrDefault(uid, 1));
    return new ProbeResult(ProbeResult.State.EXITED, code, false, exitReason, exitDetail, List.of("done"), null, null, List.of(), 4.0,
        attempts.get(uid));
  }

  @Override
  public RemoteHost connect(SshTarget target) {
    return new RemoteHost() {
      @Override
      public void upload(JobBundle bundle) {
        record(new Call("upload", bundle.job().toString()));
        uploads.put(bundle.job().uid(), bundle);
      }

      @Override
      public boolean start(JobRef job, int attempt) throws Exception {
        record(new Call("startOnce", job.toString()));
        if (screenMissing) {
          throw new dev.trainingjob.operator.remote.RemoteCommandException(screenMissingMessage, 10);
        }
        Integer held = attempts.get(job.uid());
        if (held != null && attempt > held) {
          // a new attempt in the same directory: the script runs again from the start
          attempts.put(job.uid(), attempt);
          probesSinceStart.put(job.uid(), new AtomicInteger(1));
          return true;
        }
        attempts.putIfAbsent(job.uid(), attempt);
        var timed = runFor;
        if (timed != null && startedAt.putIfAbsent(job.uid(), java.time.Instant.now()) == null) {
          exitsAt.putIfAbsent(job.uid(), startedAt.get(job.uid()).plus(timed));
        }
        return probesSinceStart.putIfAbsent(job.uid(), new AtomicInteger()) == null;
      }

      @Override
      public ProbeResult probe(JobRef job) {
        record(new Call("probe", job.toString()));
        var gate = probeGate;
        if (gate != null && Thread.currentThread().getName().startsWith("probe-")) {
          atTheGate.incrementAndGet();
          try {
            gate.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the machine was slow", e);
          } finally {
            atTheGate.decrementAndGet();
          }
        }
        if (probeFails != null) {
          throw probeFails;
        }
        if (runFor != null) {
          return timedProbe(job);
        }
        AtomicInteger n = probesSinceStart.get(job.uid());
        if (n == null) {
          return new ProbeResult(ProbeResult.State.ABSENT, null, false, null, null, List.of(), null, null, List.of(), 1.0, null);
        }
        if (stopped.remove(job.uid())) {
          n.set(Integer.MAX_VALUE / 2);
          return new ProbeResult(ProbeResult.State.EXITED, 143, false, ProbeResult.ExitReason.INTERRUPTED, "stopped", List.of("stopped"),
              null, disk, gpus, 4.0, attempts.get(job.uid()));
        }
        int i = n.getAndIncrement();
        if (i >= Integer.MAX_VALUE / 2) {
          return new ProbeResult(ProbeResult.State.EXITED, 143, false, ProbeResult.ExitReason.INTERRUPTED, "stopped", List.of("stopped"),
              null, disk, gpus, 4.0, attempts.get(job.uid()));
        }
        if (i == 0) {
          return new ProbeResult(ProbeResult.State.BOOTSTRAPPING, null, true, null, null, List.of("installing"), null, null, List.of(), 2.0, attempts.get(job.uid()));
        }
        if (sessionDies && i >= 1) {
          return new ProbeResult(ProbeResult.State.RUNNING, null, false, null, null, List.of("Epoch 1/9"),
              Map.of("epoch", 1, "epochs", 9), null, List.of(), 3.0, attempts.get(job.uid()));
        }
        if (unchanging && i >= 1) {
          return new ProbeResult(ProbeResult.State.RUNNING, null, true, null, null, List.of("Epoch 1/9"),
              Map.of("epoch", 1, "epochs", 9), disk, gpus, 3.0, attempts.get(job.uid()));
        }
        if (i <= runningProbes) {
          return new ProbeResult(ProbeResult.State.RUNNING, null, true, null, null, List.of("Epoch " + i + "/" + runningProbes),
              Map.of("epoch", i, "epochs", runningProbes, "loss", 1.0 / i), disk, gpus, 3.0, attempts.get(job.uid()));
        }
        int code = exitCodeOf == null ? exitCode : exitCodeOf.applyAsInt(attempts.getOrDefault(job.uid(), 1));
        List<String> tail = code == 0 ? List.of("Epoch done", "saved model.pt") : List.of("Traceback", "ValueError: boom");
        if (exitSeenBeforeTheLogIsFlushed && exitSeenEarly.add(job.uid())) {
          return new ProbeResult(ProbeResult.State.EXITED, code, true, exitReason, exitDetail, tail.subList(0, 1),
              Map.of("epoch", runningProbes, "epochs", runningProbes, "loss", 0.1), null, List.of(), 4.0, attempts.get(job.uid()));
        }
        return new ProbeResult(ProbeResult.State.EXITED, code, false, exitReason, exitDetail, tail,
            Map.of("epoch", runningProbes, "epochs", runningProbes, "loss", 0.1), null, List.of(), 4.0, attempts.get(job.uid()));
      }

      @Override
      public java.util.concurrent.CompletableFuture<ProbeResult> awaitChange(JobRef job, ProbeResult.State seen,
          java.time.Duration bound) {
        if (runFor == null) {
          return RemoteHost.super.awaitChange(job, seen, bound); // probed only, as before
        }
        record(new Call("awaitChange", job.toString()));
        ProbeResult now = timedProbe(job);
        if (now.state() != seen) {
          return java.util.concurrent.CompletableFuture.completedFuture(now);
        }
        Wait wait = new Wait(job.uid(), job, java.time.Instant.now().plus(bound));
        waits.computeIfAbsent(job.uid(), k -> ConcurrentHashMap.newKeySet()).add(wait);
        wait.answer.whenComplete((r, e) -> {
          if (wait.answer.isCancelled()) {
            var set = waits.get(job.uid());
            if (set != null) {
              set.remove(wait);
            }
            synchronized (wait) {
              if (wait.timer != null) {
                wait.timer.cancel(false);
              }
            }
          }
        });
        wait.arm();
        return wait.answer;
      }

      @Override
      public void stop(JobRef job) {
        record(new Call("stop", job.toString()));
        if (stopEndsScript) {
          stopped.add(job.uid());
        }
      }

      @Override
      public dev.trainingjob.operator.remote.Collected collect(JobRef job, List<String> paths, Path destination, long maxBytes)
          throws InterruptedException {
        record(new Call("collect", job.toString()));
        var gate = collectGate;
        if (gate != null) {
          gate.await(); // a large download
        }
        return new dev.trainingjob.operator.remote.Collected(paths, List.of(), List.of());
      }

      @Override
      public void hold(JobRef job, long ceilingEpochSecond) {
        record(new Call("hold", job.toString()));
        if (holdFails != null) {
          throw holdFails;
        }
      }

      @Override
      public void keepUntil(JobRef job, long ceilingEpochSecond) {
        record(new Call("keepUntil", job.toString()));
      }

      @Override
      public void cleanup(JobRef job) {
        record(new Call("cleanup", job.toString()));
      }

      @Override
      public void renew(JobRef job, String run) {
        record(new Call("renew", job.toString()));
        if (!run.equals(renewedFor.put(job.uid(), run))) {
          // the directory is the new run's: nothing started in it yet
          attempts.remove(job.uid());
          probesSinceStart.remove(job.uid());
          stopped.remove(job.uid());
          startedAt.remove(job.uid());
          exitsAt.remove(job.uid());
        }
      }

      @Override
      public void close() {}

      @Override
      public void streamLog(JobRef job, boolean follow, java.io.OutputStream out, java.util.function.BooleanSupplier keepGoing) {
        throw new UnsupportedOperationException("a scripted machine has no log");
      }

      @Override
      public PortForward forward(int localPort, int remotePort) {
        throw new UnsupportedOperationException("a scripted machine has no ports");
      }

      @Override
      public java.security.PublicKey hostKey() {
        return target.hostKey();
      }

      @Override
      public java.security.PublicKey stageHostKey() {
        throw new UnsupportedOperationException("a scripted machine has no sshd");
      }

      @Override
      public void installHostKey(java.security.PublicKey next) {
        throw new UnsupportedOperationException("a scripted machine has no sshd");
      }
    };
  }

  /** The methods called for a job, in order. */
  /** The job's machine was released: a next one has no job directory. */
  public void machineReleased(String uid) {
    attempts.remove(uid);
    probesSinceStart.remove(uid);
    stopped.remove(uid);
    renewedFor.remove(uid);
    startedAt.remove(uid);
    exitsAt.remove(uid);
  }

  public List<String> methods(String jobRef) {
    return calls.stream().filter(c -> c.job().equals(jobRef)).map(Call::method).toList();
  }

  public long count(String jobRef, String method) {
    return calls.stream().filter(c -> c.job().equals(jobRef) && c.method().equals(method)).count();
  }

  public JobBundle uploaded(String uid) {
    return uploads.get(uid);
  }

  @Override
  public void close() {
    var s = clock;
    if (s != null) {
      s.shutdownNow();
    }
  }
}
