package dev.trainingjob.operator.provider.ec2;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Keeps the install's EC2 calls inside EC2's token buckets ({@link Ec2ApiLimits}), so that EC2 has no reason to answer
 * RequestLimitExceeded: one bucket per action (and per resource bucket), shared by every job, paced right before each
 * attempt goes out (so calls that were slow to get there do not arrive together). A call without a token waits here for
 * it; only as long as the calls already waiting take, since every caller owes its token at once. Launches would wait
 * longest (RunInstances comes back 2 a second), so jobs first take turns in {@link LaunchLine}, at the same pace, which
 * tells a job when to come back rather than holding its thread; here a launch then waits only for those that reached
 * EC2's door at the same moment.
 *
 * <p>Why not the SDK's adaptive retry mode: its rate limiter is one for the whole client (all actions), and learns the rate
 * from throttling errors, so it needs the errors this avoids. A throttle that still happens (another client in the
 * account uses the same buckets) is retried by the SDK's standard strategy, with its backoff for throttling.
 */
public final class Ec2Pacing implements ExecutionInterceptor {
  private final Ec2ApiLimits limits;
  private final Clock clock;
  private final MeterRegistry meters;
  private final Map<String, TokenBucket> buckets = new HashMap<>();

  public Ec2Pacing(Ec2ApiLimits limits, Clock clock, MeterRegistry meters) {
    this.limits = limits;
    this.clock = clock;
    this.meters = meters;
  }

  @Override
  public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
    String action = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    Duration wait = reserve(action, context.request());
    if (wait.isZero()) {
      return;
    }
    Timer.builder("trainingjob.aws.api.paced").description("How long EC2 calls waited for a token of EC2's API limits, by action")
        .tag("action", action).register(meters).record(wait);
    try {
      Thread.sleep(wait.toMillis(), wait.toNanosPart() % 1_000_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AbortedException.create("interrupted while waiting for a token of EC2's " + action + " limit");
    }
  }

  /** The bucket this install paces {@code action} with (its request bucket, for a filtered call). */
  Ec2ApiLimits.Bucket paced(String action) {
    return limits.paced(limits.request(action, false));
  }

  /** How long until the calls of {@code action} already on their way have gone out (zero when none waits). */
  synchronized Duration owed(String action) {
    return bucket(action, false).owed();
  }

  /** Takes the call's tokens, owing what is missing: how long it must wait before it goes out. */
  synchronized Duration reserve(String action, SdkRequest request) {
    int resources = resources(action, request);
    Duration wait = bucket(action, unfiltered(request)).reserve(1);
    TokenBucket resource = resourceBucket(action);
    if (resource != null && resources > 0) {
      Duration forResources = resource.reserve(resources);
      wait = wait.compareTo(forResources) >= 0 ? wait : forResources;
    }
    return wait;
  }

  private TokenBucket bucket(String action, boolean unfiltered) {
    boolean smaller = unfiltered && Ec2ApiLimits.UNFILTERED_ACTIONS.contains(action);
    return buckets.computeIfAbsent(smaller ? action + ".unfiltered" : action,
        k -> new TokenBucket(limits.paced(limits.request(action, smaller)), clock));
  }

  private TokenBucket resourceBucket(String action) {
    return limits.resources(action).map(aws -> buckets.computeIfAbsent(action + ".resources",
        k -> new TokenBucket(limits.paced(aws), clock))).orElse(null);
  }

  /** A Describe call without a filter or pagination (EC2 counts some of those against a smaller bucket). */
  static boolean unfiltered(SdkRequest request) {
    boolean filtered = request.getValueForField("Filters", List.class).map(f -> !f.isEmpty()).orElse(false);
    return !filtered && request.getValueForField("MaxResults", Integer.class).isEmpty()
        && request.getValueForField("NextToken", String.class).isEmpty();
  }

  /** The instances a call starts, stops or ends: what it takes from a resource bucket. */
  static int resources(String action, SdkRequest request) {
    if ("RunInstances".equals(action)) {
      return request.getValueForField("MaxCount", Integer.class).orElse(1);
    }
    return request.getValueForField("InstanceIds", List.class).map(List::size).orElse(0);
  }
}
