package dev.trainingjob.operator.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainingjob.operator.api.TrainingJobStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides when a job's status is written (the write economy). Anything a person acts on (a phase, a
 * condition, a message) is written at once; what changes by itself while a script runs (progress,
 * the log tail, usage, cost) at most once per interval per job, so a thousand running jobs do not
 * flood the API server with PATCHes.
 */
public final class StatusRecorder {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Duration liveWriteInterval;
  /** When each job's status was last written, by uid. */
  private final Map<String, Instant> lastWrites = new ConcurrentHashMap<>();

  public StatusRecorder(Duration liveWriteInterval) {
    this.liveWriteInterval = liveWriteInterval;
  }

  /** A deep copy, to compare against after a reconcile changed the status in place. */
  public static TrainingJobStatus snapshot(TrainingJobStatus status) {
    return status == null ? null : JSON.convertValue(status, TrainingJobStatus.class);
  }

  /**
   * Whether the change from {@code before} to {@code after} is written now; when it is, now counts as
   * the job's last write.
   */
  public boolean shouldWrite(String uid, TrainingJobStatus before, TrainingJobStatus after, Instant now) {
    boolean write;
    if (same(before, after)) {
      write = false;
    } else if (same(withoutLiveFields(before), withoutLiveFields(after))) {
      Instant last = lastWrites.get(uid);
      write = last == null || !now.isBefore(last.plus(liveWriteInterval));
    } else {
      write = true;
    }
    if (write) {
      lastWrites.put(uid, now);
    }
    return write;
  }

  /** Forgets a deleted job. */
  public void forget(String uid) {
    lastWrites.remove(uid);
  }

  /** The status without what changes by itself while a job runs. */
  private static TrainingJobStatus withoutLiveFields(TrainingJobStatus status) {
    TrainingJobStatus s = snapshot(status);
    if (s != null) {
      s.progress = null;
      s.logTail = null;
      s.usage = null;
      s.cost = null;
      if (s.timings != null) {
        s.timings.lastActivity = null; // moves with every new output line
      }
    }
    return s;
  }

  private static boolean same(TrainingJobStatus a, TrainingJobStatus b) {
    return Objects.equals(JSON.valueToTree(a), JSON.valueToTree(b));
  }
}
