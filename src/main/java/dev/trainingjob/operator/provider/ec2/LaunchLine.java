package dev.trainingjob.operator.provider.ec2;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The jobs of the install waiting to launch, in the order they first asked: turns come at the pace EC2's RunInstances
 * limit lets launches go. A job takes a turn when there is one left over for it after those ahead of it (at EC2's default
 * limits: when it is at the head); every other job is told how long until its turn (its place in the line, at the rate
 * turns come) and comes back then, so a burst of launches holds no reconcile thread. The call itself is paced again as it
 * goes out (Ec2Pacing): a launch whose security group took long must not reach EC2 together with the next one. A job that
 * does not come back when told (deleted, or its reconcile late) keeps its place but holds up no one; one away for long
 * leaves the line.
 */
final class LaunchLine {
  static final String ACTION = "RunInstances";
  /** How late a job may be before those behind it go first. */
  static final Duration LATE = Duration.ofSeconds(1);
  /** How long a job that never came back keeps its place. */
  static final Duration FORGET = Duration.ofMinutes(10);
  /** The shortest pause before asking again: a token that is almost back is not worth a busy loop. */
  static final Duration MIN_PAUSE = Duration.ofMillis(100);

  /** A job's answer: launch now, or how many are ahead of it and when to ask again. */
  record Turn(boolean now, int ahead, Duration pause) {}

  private final Ec2Pacing pacing;
  /** Turns come at the pace the launches' calls go out at (Ec2Pacing paces the calls themselves). */
  private final TokenBucket turns;
  private final Clock clock;
  /** uid → when it was told to come back, in the order the jobs joined. */
  private final Map<String, Instant> waiting = new LinkedHashMap<>();

  LaunchLine(Ec2Pacing pacing, Clock clock) {
    this.pacing = pacing;
    this.turns = new TokenBucket(pacing.paced(ACTION), clock);
    this.clock = clock;
  }

  /** The job's turn to launch one instance: the token is taken when it is now. */
  synchronized Turn take(String uid) {
    Instant now = clock.instant();
    waiting.values().removeIf(due -> due.plus(FORGET).isBefore(now));
    waiting.putIfAbsent(uid, now);
    int ahead = 0;
    for (Map.Entry<String, Instant> e : waiting.entrySet()) {
      if (e.getKey().equals(uid)) {
        break;
      }
      if (!e.getValue().plus(LATE).isBefore(now)) {
        ahead++;
      }
    }
    // launches that came to EC2's door together wait there until their calls went out: no new turns meanwhile, or
    // the waiting there would never end (turns come no faster than calls go)
    Duration owed = pacing.owed(ACTION);
    // those ahead keep the turns there are for them; a job goes when one is left over
    Duration pause = turns.until(ahead + 1);
    if (owed.isZero() && pause.isZero() && turns.tryTake(1)) {
      waiting.remove(uid);
      return new Turn(true, 0, Duration.ZERO);
    }
    pause = pause.compareTo(owed) >= 0 ? pause : owed;
    pause = pause.compareTo(MIN_PAUSE) < 0 ? MIN_PAUSE : pause;
    waiting.put(uid, now.plus(pause));
    return new Turn(false, ahead, pause);
  }

  /** A launch called RunInstances once more (a fallback instance type): the turns after it come that much later. */
  synchronized void anotherCall() {
    turns.reserve(1);
  }

  /** The job no longer waits (it ended, or launches no more). */
  synchronized void leave(String uid) {
    waiting.remove(uid);
  }

  synchronized int size() {
    return waiting.size();
  }
}
