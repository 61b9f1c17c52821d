package dev.trainingjob.operator.provider.ec2;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A token bucket refilled smoothly by a clock. A reservation may take more than there is: the bucket then owes tokens,
 * and the caller (and every later one) waits until they have come back, so calls never go out faster than the bucket
 * allows, however many threads ask at once. Not thread-safe: {@link Ec2Pacing} holds its lock around each use.
 */
final class TokenBucket {
  private final Ec2ApiLimits.Bucket limit;
  private final Clock clock;
  private double tokens;
  private Instant at;

  TokenBucket(Ec2ApiLimits.Bucket limit, Clock clock) {
    this.limit = limit;
    this.clock = clock;
    this.tokens = limit.capacity();
    this.at = clock.instant();
  }

  Ec2ApiLimits.Bucket limit() {
    return limit;
  }

  /** Takes n tokens if they are there now. */
  boolean tryTake(double n) {
    refill();
    if (tokens < n) {
      return false;
    }
    tokens -= n;
    return true;
  }

  /** Takes n tokens now, owing what is missing; returns how long the caller must wait before its call goes out. */
  Duration reserve(double n) {
    refill();
    tokens -= n;
    return tokens >= 0 ? Duration.ZERO : seconds(-tokens / limit.refillPerSecond());
  }

  /** How long until n more tokens than are there now have come back (beyond the capacity: the n-th call from now may go). */
  Duration until(double n) {
    refill();
    return tokens >= n ? Duration.ZERO : seconds((n - tokens) / limit.refillPerSecond());
  }

  /** How long until what the bucket owes has come back (zero when it owes nothing). */
  Duration owed() {
    refill();
    return tokens >= 0 ? Duration.ZERO : seconds(-tokens / limit.refillPerSecond());
  }

  private void refill() {
    Instant now = clock.instant();
    if (now.isAfter(at)) {
      double elapsed = Duration.between(at, now).toNanos() / 1e9;
      tokens = Math.min(limit.capacity(), tokens + elapsed * limit.refillPerSecond());
      at = now;
    }
  }

  private static Duration seconds(double s) {
    // rounded up: a wait a nanosecond short would find the token not quite back
    return Duration.ofNanos((long) Math.ceil(s * 1e9));
  }
}
