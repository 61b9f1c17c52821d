package dev.trainingjob.operator.fake.ec2;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * EC2's API throttling, as the fake applies it once told to ({@link FakeEc2#throttleAsEc2}): a token bucket per action
 * for the account, and a resource bucket for the actions that start, stop or end instances; a request that finds
 * either empty is answered RequestLimitExceeded (HTTP 503, "Request limit exceeded.").
 *
 * <p>The figures are AWS's defaults, from "Request throttling for the Amazon EC2 API",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html (read 2026-11-27 through a stored copy of the
 * page's Markdown source; AWS's own page and its API-reference twin, AWSEC2/latest/APIReference/throttling.html, agree on
 * the text the stored excerpts show). Request buckets, capacity / refill a second:
 * <ul>
 *   <li>non-mutating (Describe*, List*, Search*, Get*): 100 / 20;
 *   <li>unfiltered and unpaginated non-mutating (DescribeInstances, DescribeInstanceStatus, DescribeNetworkInterfaces,
 *       DescribeSecurityGroups, DescribeSnapshots, DescribeSpotInstanceRequests, DescribeVolumes called without a filter or
 *       pagination): 50 / 10, a bucket of their own;
 *   <li>mutating: 50 / 5; resource-intensive (AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress, CreateKeyPair,
 *       RequestSpotInstances, CancelSpotInstanceRequests and the VPC peering ones): 50 / 5;
 *   <li>uncategorized, each its own: RunInstances 5 / 2 (it is not among the resource-intensive actions), StartInstances
 *       5 / 2, TerminateInstances 100 / 5, CreateTags and DeleteTags 100 / 10 (and many the fake does not serve).
 * </ul>
 * Resource buckets: RunInstances 1000 / 2, TerminateInstances 1000 / 20, StartInstances 1000 / 2, StopInstances 1000 / 20,
 * one token per instance. "Each API is evaluated individually": the buckets are per action, not per category.
 *
 * <p>Where the page is silent the fake takes the stricter reading: tokens come back in whole seconds from the bucket's
 * first use ("a set number of tokens is added back to it every second"), not smoothly; a launch costs MaxCount resource
 * tokens; a request that fails for another reason still took its tokens. A request refused here takes none.
 */
final class FakeApiLimits {
  /** A bucket's figures, in thousandths of a token so that fractional refills (0.1 a second) add up exactly. */
  record Limit(long capacity, long refillPerSecond) {
    static Limit of(double capacity, double refillPerSecond) {
      return new Limit(Math.round(capacity * 1000), Math.round(refillPerSecond * 1000));
    }
  }

  static final Limit NON_MUTATING = Limit.of(100, 20);
  static final Limit UNFILTERED = Limit.of(50, 10);
  static final Limit MUTATING = Limit.of(50, 5);
  static final Limit RESOURCE_INTENSIVE = Limit.of(50, 5);
  static final Set<String> UNFILTERED_ACTIONS = Set.of("DescribeInstances", "DescribeInstanceStatus", "DescribeNetworkInterfaces",
      "DescribeSecurityGroups", "DescribeSnapshots", "DescribeSpotInstanceRequests", "DescribeVolumes");
  static final Set<String> RESOURCE_INTENSIVE_ACTIONS = Set.of("AcceptVpcPeeringConnection", "AuthorizeSecurityGroupIngress",
      "CancelSpotInstanceRequests", "CreateKeyPair", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
      "RejectVpcPeeringConnection", "RevokeSecurityGroupIngress", "RequestSpotInstances");
  static final Map<String, Limit> UNCATEGORIZED = Map.of("RunInstances", Limit.of(5, 2), "StartInstances", Limit.of(5, 2),
      "TerminateInstances", Limit.of(100, 5), "CreateTags", Limit.of(100, 10), "DeleteTags", Limit.of(100, 10));
  static final Map<String, Limit> RESOURCES = Map.of("RunInstances", Limit.of(1000, 2), "TerminateInstances", Limit.of(1000, 20),
      "StartInstances", Limit.of(1000, 2), "StopInstances", Limit.of(1000, 20));

  /** One bucket: full at its first use, refilled at each whole second since. */
  private static final class Bucket {
    final Limit limit;
    final Instant start;
    long seconds;
    long tokens;

    Bucket(Limit limit, Instant start) {
      this.limit = limit;
      this.start = start;
      this.tokens = limit.capacity();
    }

    void refill(Instant now) {
      long whole = Math.max(0, Duration.between(start, now).toSeconds());
      if (whole > seconds) {
        tokens = Math.min(limit.capacity(), tokens + (whole - seconds) * limit.refillPerSecond());
        seconds = whole;
      }
    }
  }

  private final Clock clock;
  private final Map<String, Bucket> buckets = new HashMap<>();
  private final Map<String, AtomicInteger> refused = new ConcurrentHashMap<>();

  FakeApiLimits(Clock clock) {
    this.clock = clock;
  }

  /** The request bucket a call of {@code action} with these parameters draws on: its key and its figures. */
  static Map.Entry<String, Limit> requestBucket(String action, QueryParams q) {
    boolean unfiltered = q.list("Filter").isEmpty() && q.get("MaxResults") == null && q.get("NextToken") == null;
    if (unfiltered && UNFILTERED_ACTIONS.contains(action)) {
      return Map.entry(action + " (unfiltered)", UNFILTERED);
    }
    if (UNCATEGORIZED.containsKey(action)) {
      return Map.entry(action, UNCATEGORIZED.get(action));
    }
    if (RESOURCE_INTENSIVE_ACTIONS.contains(action)) {
      return Map.entry(action, RESOURCE_INTENSIVE);
    }
    boolean reads = action.startsWith("Describe") || action.startsWith("List") || action.startsWith("Search") || action.startsWith("Get");
    return Map.entry(action, reads ? NON_MUTATING : MUTATING);
  }

  /** The resource tokens a call takes: the instances it launches (MaxCount) or names. */
  static long resources(String action, QueryParams q) {
    if ("RunInstances".equals(action)) {
      return q.get("MaxCount") == null ? 1 : Long.parseLong(q.get("MaxCount"));
    }
    return q.values("InstanceId").size();
  }

  /** Whether EC2 lets this call through now; if it does, its tokens are taken. */
  synchronized boolean admit(String action, QueryParams q) {
    Instant now = clock.instant();
    var key = requestBucket(action, q);
    Bucket request = bucket(key.getKey(), key.getValue(), now);
    Limit resourceLimit = RESOURCES.get(action);
    Bucket resource = resourceLimit == null ? null : bucket(action + " (resources)", resourceLimit, now);
    long cost = resource == null ? 0 : resources(action, q) * 1000;
    if (request.tokens < 1000 || (resource != null && resource.tokens < cost)) {
      refused.computeIfAbsent(action, a -> new AtomicInteger()).incrementAndGet();
      return false;
    }
    request.tokens -= 1000;
    if (resource != null) {
      resource.tokens -= cost;
    }
    return true;
  }

  /** RequestLimitExceeded answers so far, by action. */
  Map<String, Integer> refused() {
    Map<String, Integer> counts = new HashMap<>();
    refused.forEach((action, n) -> counts.put(action, n.get()));
    return counts;
  }

  private Bucket bucket(String key, Limit limit, Instant now) {
    Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(limit, now));
    b.refill(now);
    return b;
  }
}
