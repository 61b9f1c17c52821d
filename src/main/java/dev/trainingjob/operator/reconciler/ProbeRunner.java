package dev.trainingjob.operator.reconciler;

import dev.trainingjob.operator.remote.ProbeResult;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes of running jobs, beside the reconciles: a probe waits on the machine (0.1 s here, 0.3 s across the world, a
 * connect timeout when it is not answering), and a reconcile thread that waited with it would be one less for every other
 * job. A reconcile asks for the job's latest result; when none came back since it last took one, it asks for a probe (at
 * most one runs per job) and looks again when the result lands: the runner wakes the job (through the event source
 * {@link OperatorFactory#probeEvents}). Results live in memory only: after a restart the first reconcile probes anew.
 *
 * <p>A result belongs to one stint of the job (its run and attempt): one that lands after the job moved on is never taken
 * for the next attempt's. The decision tests run probes inline, so a reconcile finds its result at once, as before.
 */
public final class ProbeRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProbeRunner.class);

  /** One probe of a job: connect (or reuse the connection) and probe. */
  @FunctionalInterface
  public interface Probe {
    Probed run() throws Exception;
  }

  /**
   * What a probe saw, how it reached the machine (the port and attach command a restart may have moved), and, for a script
   * that has not ended, how to wait on the machine for what it does next (null: nothing to wait for).
   */
  public record Probed(ProbeResult result, Integer sshPort, String attachCommand, Watch watch) {
    public Probed(ProbeResult result, Integer sshPort, String attachCommand) {
      this(result, sshPort, attachCommand, null);
    }
  }

  /**
   * One wait on the machine until the job leaves the state {@code from} (see RemoteHost.awaitChange), and the wait that
   * follows what it saw (null: nothing more to wait for), so a job is followed from state to state: Python prepared, the
   * script running, its exit.
   */
  public record Watch(ProbeResult.State from, Supplier<CompletableFuture<ProbeResult>> start, Function<ProbeResult, Watch> next) {}

  /** A probe's outcome: what it saw, or why it could not look (handled as a probe made in the reconcile would be). */
  public record Outcome(Probed probed, Exception failure) {
    Probed get() throws Exception {
      if (failure != null) {
        throw failure;
      }
      return probed;
    }
  }

  /** A job's probe in flight, its wait for the exit, and the result not yet taken, for one stint. Guarded by the map's compute. */
  private static final class Slot {
    final String stint;
    boolean inFlight;
    Outcome latest;
    CompletableFuture<ProbeResult> watch;

    Slot(String stint) {
      this.stint = stint;
    }
  }

  private final Executor executor;
  private final Map<String, Slot> slots = new ConcurrentHashMap<>();
  private volatile Consumer<ResourceID> wake = id -> { };

  private ProbeRunner(Executor executor) {
    this.executor = executor;
  }

  /** Probes on the caller's thread: the reconcile that asks finds the result at once (the synchronous decision tests). */
  public static ProbeRunner inline() {
    return new ProbeRunner(Runnable::run);
  }

  /** Probes on {@code threads} threads of their own; more wait in line (at most one per job). */
  public static ProbeRunner pooled(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("--probe-threads must be at least 1, not " + threads);
    }
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "probe-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    pool.allowCoreThreadTimeOut(true); // an operator with nothing running keeps no probe threads
    return new ProbeRunner(pool);
  }

  /** Who is told a job's probe came back (the event source that wakes its reconcile). */
  void onResult(Consumer<ResourceID> wake) {
    this.wake = wake;
  }

  /** The outcome of the job's last probe in this stint, once; empty while none came back since the last one was taken. */
  Optional<Outcome> take(String uid, String stint) {
    Outcome[] taken = new Outcome[1];
    slots.computeIfPresent(uid, (k, slot) -> {
      if (slot.stint.equals(stint)) {
        taken[0] = slot.latest;
        slot.latest = null;
      }
      return slot;
    });
    return Optional.ofNullable(taken[0]);
  }

  /** Starts a probe of the job unless one is in flight for this stint; its outcome waits for {@link #take}. */
  void request(ResourceID job, String uid, String stint, Probe probe) {
    boolean[] start = new boolean[1];
    List<CompletableFuture<ProbeResult>> ended = new ArrayList<>(1);
    slots.compute(uid, (k, slot) -> {
      if (slot != null && !slot.stint.equals(stint)) {
        detachWatch(slot, ended); // the job moved on to another attempt or run: the last one's wait ends
      }
      Slot s = slot == null || !slot.stint.equals(stint) ? new Slot(stint) : slot;
      if (!s.inFlight) {
        s.inFlight = true;
        start[0] = true;
      }
      return s;
    });
    ended.forEach(w -> w.cancel(true));
    if (!start[0]) {
      return;
    }
    try {
      executor.execute(() -> land(job, uid, stint, run(probe)));
    } catch (RejectedExecutionException closing) {
      slots.computeIfPresent(uid, (k, slot) -> {
        slot.inFlight = false;
        return slot;
      });
    }
  }

  private static Outcome run(Probe probe) {
    try {
      return new Outcome(probe.run(), null);
    } catch (Exception e) {
      return new Outcome(null, e);
    } catch (Error e) {
      return new Outcome(null, new IllegalStateException(e)); // the job hears of it; the pool's thread goes on
    }
  }

  private void land(ResourceID job, String uid, String stint, Outcome outcome) {
    boolean[] kept = new boolean[1];
    // a job forgotten (released, deleted) meanwhile is not brought back, and a stint that ended keeps nothing
    slots.computeIfPresent(uid, (k, slot) -> {
      if (slot.stint.equals(stint)) {
        slot.inFlight = false;
        // an exit the wait saw is not hidden by a probe that started before it
        if (!exited(slot.latest) || exited(outcome)) {
          slot.latest = outcome;
        }
        kept[0] = true;
      }
      return slot;
    });
    if (kept[0]) {
      wake(job);
      if (outcome.probed() != null) {
        watch(job, uid, stint, outcome.probed().watch());
      }
    }
  }

  /**
   * After a probe that saw the script on its way (starting, preparing Python, running, copying outputs): unless the job
   * waits already, one wait on the machine that lands the moment the job moves on, so its next step (Running, the exit) is
   * taken at once rather than at the next probe. A wait that ends without a change (its bound, a dropped connection, no
   * channel to spare) is started again by a later probe, never at once.
   */
  void watch(ResourceID job, String uid, String stint, Watch watch) {
    if (watch == null) {
      return;
    }
    boolean[] idle = new boolean[1];
    List<CompletableFuture<ProbeResult>> ended = new ArrayList<>(1);
    slots.compute(uid, (k, slot) -> {
      Slot s = slot;
      if (slot == null || !slot.stint.equals(stint)) {
        if (slot != null) {
          detachWatch(slot, ended);
        }
        s = new Slot(stint);
      }
      idle[0] = s.watch == null;
      return s;
    });
    ended.forEach(w -> w.cancel(true));
    if (!idle[0]) {
      return;
    }
    CompletableFuture<ProbeResult> waiting;
    try {
      waiting = watch.start().get();
    } catch (RuntimeException e) {
      LOG.debug("{}: no wait on the machine: {}", job, e.toString());
      return;
    }
    boolean[] kept = new boolean[1];
    slots.computeIfPresent(uid, (k, slot) -> {
      if (slot.stint.equals(stint) && slot.watch == null) {
        slot.watch = waiting;
        kept[0] = true;
      }
      return slot;
    });
    if (!kept[0]) {
      waiting.cancel(true); // forgotten, or moved on, while it started
      return;
    }
    waiting.whenComplete((seen, failure) -> watchEnded(job, uid, stint, waiting, watch, seen));
  }

  private void watchEnded(ResourceID job, String uid, String stint, CompletableFuture<ProbeResult> waiting, Watch watch,
      ProbeResult seen) {
    ProbeResult.State from = watch.from();
    boolean[] kept = new boolean[1];
    slots.computeIfPresent(uid, (k, slot) -> {
      if (slot.watch == waiting) {
        slot.watch = null;
      }
      // what the job moved on to (a wait that reached its bound saw nothing new, and lands nothing)
      if (seen != null && (seen.exited() || seen.state() != from) && slot.stint.equals(stint) && !exited(slot.latest)) {
        slot.latest = new Outcome(new Probed(seen, null, null), null);
        kept[0] = true;
      }
      return slot;
    });
    if (kept[0]) {
      wake(job);
      watch(job, uid, stint, watch.next().apply(seen)); // a change, so never a loop: each state is left once
    }
  }

  private void wake(ResourceID job) {
    try {
      wake.accept(job);
    } catch (RuntimeException e) {
      LOG.warn("{}: waking the job after its probe: {}", job, e.toString()); // its reconcile's own requeue still comes
    }
  }

  private static boolean exited(Outcome outcome) {
    return outcome != null && outcome.probed() != null && outcome.probed().result() != null && outcome.probed().result().exited();
  }

  /**
   * Takes the slot's wait out of it, for the caller to cancel once out of the map's compute (a cancelled wait's own callback
   * updates the map).
   */
  private static void detachWatch(Slot slot, List<CompletableFuture<ProbeResult>> into) {
    if (slot.watch != null) {
      into.add(slot.watch);
      slot.watch = null;
    }
  }

  /**
   * Drops what is kept for the job (it left Bootstrapping and Running, or was deleted) and ends its wait on the machine; a
   * probe in flight lands nowhere.
   */
  void forget(String uid) {
    List<CompletableFuture<ProbeResult>> ended = new ArrayList<>(1);
    Slot slot = slots.remove(uid);
    if (slot != null) {
      detachWatch(slot, ended);
    }
    ended.forEach(w -> w.cancel(true));
  }

  /** Jobs waiting for their exit on their machine now (each holds a channel there). */
  int watching() {
    return (int) slots.values().stream().filter(slot -> slot.watch != null).count();
  }

  @Override
  public void close() {
    if (executor instanceof ExecutorService pool) {
      pool.shutdownNow();
    }
    slots.keySet().forEach(this::forget);
  }
}
