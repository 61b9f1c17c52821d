package dev.trainingjob.operator.job;

import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes Events on a few threads of its own, so that a reconcile never waits for the API to store one: an Event is a
 * courtesy, and with many jobs ending at once the synchronous POSTs were half of what held the reconcile threads (issue
 * 19's benchmark). Each job's Events go through one lane, in the order they were recorded; the Event itself is built on
 * the caller's thread (its time, the job's resourceVersion). The lanes' queues are bounded: when the API cannot keep up,
 * further Events are dropped and counted ({@link #dropped()}), never queued without end.
 */
public final class BackgroundEventRecorder implements EventRecorder, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BackgroundEventRecorder.class);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
  private final KubernetesClient client;
  private final List<ThreadPoolExecutor> lanes = new ArrayList<>();
  private final LongAdder dropped = new LongAdder();

  /** {@code lanes} threads, each with room for {@code queuePerLane} Events waiting to be written. */
  public BackgroundEventRecorder(KubernetesClient client, int lanes, int queuePerLane) {
    if (lanes < 1 || queuePerLane < 1) {
      throw new IllegalArgumentException("lanes and queuePerLane must be at least 1");
    }
    this.client = client;
    AtomicInteger n = new AtomicInteger();
    for (int i = 0; i < lanes; i++) {
      this.lanes.add(new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(queuePerLane), r -> {
        Thread t = new Thread(r, "trainingjob-events-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      }));
    }
    // each lane's writer runs from the start, so a marker put straight into its queue (awaitWritten) is always taken
    this.lanes.forEach(ThreadPoolExecutor::prestartAllCoreThreads);
  }

  @Override
  public void normal(TrainingJob job, Reason reason, String message) {
    record(job, "Normal", reason, message);
  }

  @Override
  public void warning(TrainingJob job, Reason reason, String message) {
    record(job, "Warning", reason, message);
  }

  private void record(TrainingJob job, String type, Reason reason, String message) {
    Event event = KubernetesEventRecorder.event(job, type, reason, message);
    String ref = job.ref();
    ThreadPoolExecutor lane = lane(job);
    try {
      lane.execute(() -> KubernetesEventRecorder.write(client, ref, reason, event));
    } catch (RejectedExecutionException full) {
      dropped.increment();
      long count = dropped.sum();
      if (Long.bitCount(count) == 1) { // 1, 2, 4, 8...: said, but never one log line per Event while the API lags
        LOG.warn("{}: event {} not recorded: {} ({} dropped so far)", ref, reason,
            lane.isShutdown() ? "the operator is stopping" : "the API is not keeping up with Events", count);
      }
    }
  }

  private ThreadPoolExecutor lane(TrainingJob job) {
    String key = job.getMetadata().getUid() != null ? job.getMetadata().getUid() : job.ref();
    return lanes.get(Math.floorMod(key.hashCode(), lanes.size()));
  }

  /** Events not recorded because the lanes were full (or closed). */
  public long dropped() {
    return dropped.sum();
  }

  /**
   * Waits until every Event recorded before this call has been written (or failed to be), at most {@code within};
   * false when the time ran out first.
   */
  public boolean awaitWritten(Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    CountDownLatch all = new CountDownLatch(lanes.size());
    for (ThreadPoolExecutor lane : lanes) {
      if (lane.isShutdown()) {
        all.countDown(); // nothing more will be written there
        continue;
      }
      // behind the Events queued in the lane (its writer is started with it): waiting for room when the queue is full,
      // until the deadline
      long left = Math.max(0, deadline - System.nanoTime());
      if (!lane.getQueue().offer(all::countDown, left, TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return all.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /** Writes what is queued, for a short while, then stops the lanes. */
  @Override
  public void close() {
    lanes.forEach(ThreadPoolExecutor::shutdown);
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    try {
      for (ThreadPoolExecutor lane : lanes) {
        if (!lane.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          int left = lane.shutdownNow().size();
          LOG.warn("stopping with {} events not written", left);
        }
      }
    } catch (InterruptedException e) {
      lanes.forEach(ThreadPoolExecutor::shutdownNow);
      Thread.currentThread().interrupt();
    }
  }
}
