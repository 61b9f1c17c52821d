package dev.trainingjob.operator.embedded;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The mock server gives each new object a uid from a counter that starts at 0 in every JVM, so two demos (or two test JVMs)
 * on one machine hand out the same uids, and the names made from them (a job's screen session, its login user) clash on
 * the machine they share. A real API server's uids are random; this starts the counter at a random point instead.
 */
final class RandomUids {
  private RandomUids() {}

  private static boolean started;

  static synchronized void startAtRandom() {
    if (started) {
      return;
    }
    started = true;
    try {
      var field = io.fabric8.kubernetes.client.utils.Utils.class.getDeclaredField("leastSigBits");
      field.setAccessible(true);
      // 40 random bits, well inside the uid's last group: the 8 hex digits a session name keeps differ between JVMs
      ((AtomicLong) field.get(null)).set(new SecureRandom().nextLong() >>> 24);
    } catch (ReflectiveOperationException | RuntimeException unchanged) {
      // another Fabric8 version: uids stay sequential, which only matters when two demos share one machine
    }
  }
}
