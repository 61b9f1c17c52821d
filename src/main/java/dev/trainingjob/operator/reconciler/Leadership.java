package dev.trainingjob.operator.reconciler;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Whether this replica leads. JOSDK reconciles only while it does; work outside reconciles (the
 * orphan sweeper) follows the same lead through {@link #whenLeading}. Without leader election the
 * one replica leads from start.
 */
public final class Leadership {
  private volatile boolean leading;
  private final List<Runnable> onStart = new CopyOnWriteArrayList<>();
  private final List<Runnable> onStop = new CopyOnWriteArrayList<>();

  public synchronized void whenLeading(Runnable start, Runnable stop) {
    onStart.add(start);
    onStop.add(stop);
    if (leading) {
      start.run();
    }
  }

  public boolean isLeading() {
    return leading;
  }

  /** Called by JOSDK's leader callbacks, or by the runtime when there is no election. */
  public synchronized void started() {
    leading = true;
    onStart.forEach(Runnable::run);
  }

  public synchronized void stopped() {
    if (leading) {
      leading = false;
      onStop.forEach(Runnable::run);
    }
  }
}
