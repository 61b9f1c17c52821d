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

  @Override
  public RemoteHost connect(SshTarget target) {
    return new RemoteHost() {
      @Override
      public void upload(JobBundle bundle) {
        calls.add(new Call("upload", bundle.job().toString()));
        uploads.put(bundle.job().uid(), bundle);
      }

      @Override
      public boolean start(JobRef job, int attempt) throws Exception {
        calls.add(new Call("startOnce", job.toString()));
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
        return probesSinceStart.putIfAbsent(job.uid(), new AtomicInteger()) == null;
      }

      @Override
      public ProbeResult probe(JobRef job) {
        calls.add(new Call("probe", job.toString()));
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
        return new ProbeResult(ProbeResult.State.EXITED, code, false, exitReason, exitDetail, tail,
            Map.of("epoch", runningProbes, "epochs", runningProbes, "loss", 0.1), null, List.of(), 4.0, attempts.get(job.uid()));
      }

      @Override
      public void stop(JobRef job) {
        calls.add(new Call("stop", job.toString()));
        if (stopEndsScript) {
          stopped.add(job.uid());
        }
      }

      @Override
      public dev.trainingjob.operator.remote.Collected collect(JobRef job, List<String> paths, Path destination, long maxBytes)
          throws InterruptedException {
        calls.add(new Call("collect", job.toString()));
        var gate = collectGate;
        if (gate != null) {
          gate.await(); // a large download
        }
        return new dev.trainingjob.operator.remote.Collected(paths, List.of(), List.of());
      }

      @Override
      public void hold(JobRef job, long ceilingEpochSecond) {
        calls.add(new Call("hold", job.toString()));
        if (holdFails != null) {
          throw holdFails;
        }
      }

      @Override
      public void keepUntil(JobRef job, long ceilingEpochSecond) {
        calls.add(new Call("keepUntil", job.toString()));
      }

      @Override
      public void cleanup(JobRef job) {
        calls.add(new Call("cleanup", job.toString()));
      }

      @Override
      public void renew(JobRef job, String run) {
        calls.add(new Call("renew", job.toString()));
        if (!run.equals(renewedFor.put(job.uid(), run))) {
          // the directory is the new run's: nothing started in it yet
          attempts.remove(job.uid());
          probesSinceStart.remove(job.uid());
          stopped.remove(job.uid());
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
  public void close() {}
}
