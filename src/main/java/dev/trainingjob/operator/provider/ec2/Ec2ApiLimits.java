package dev.trainingjob.operator.provider.ec2;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * EC2's API throttling as AWS documents it, and what this operator allows itself of it. EC2 keeps a token bucket per
 * action (per account and region): each request takes a token, and RunInstances, TerminateInstances, StartInstances and
 * StopInstances also take one token per instance from a resource bucket; an empty bucket answers RequestLimitExceeded.
 * The figures are the defaults of "Request throttling for the Amazon EC2 API",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html (read 2026-11-27). An account whose limits AWS
 * raised names its own in {@code overrides}; {@code share} is the part of every bucket this install may use, for accounts
 * where other tools, or other shards of the install, call EC2 too (each one paces itself alone).
 *
 * @param overrides buckets by key: {@code Action} (its request bucket), {@code Action.unfiltered} (the smaller bucket some
 *     Describe actions use when called without a filter or pagination), {@code Action.resources} (its resource bucket)
 * @param share the fraction of each bucket this install may use, above 0 and at most 1
 */
public record Ec2ApiLimits(Map<String, Bucket> overrides, double share) {
  /** A bucket as AWS gives it: how many tokens it holds at most, and how many come back each second. */
  public record Bucket(double capacity, double refillPerSecond) {
    public Bucket {
      if (!(capacity >= 1) || !(refillPerSecond > 0)) {
        throw new IllegalArgumentException("a bucket holds at least 1 token and refills more than 0 a second, not "
            + capacity + "/" + refillPerSecond);
      }
    }

    @Override
    public String toString() {
      return format(capacity) + "/" + format(refillPerSecond);
    }
  }

  public static final Ec2ApiLimits AWS_DEFAULTS = new Ec2ApiLimits(Map.of(), 1.0);

  // the request token bucket of each category (capacity, refill a second)
  static final Bucket NON_MUTATING = new Bucket(100, 20);
  /** DescribeInstances and six others, called without a filter or pagination: a smaller bucket of their own. */
  static final Bucket UNFILTERED_NON_MUTATING = new Bucket(50, 10);
  static final Bucket MUTATING = new Bucket(50, 5);
  static final Bucket RESOURCE_INTENSIVE = new Bucket(50, 5);
  static final Set<String> UNFILTERED_ACTIONS = Set.of("DescribeInstances", "DescribeInstanceStatus", "DescribeNetworkInterfaces",
      "DescribeSecurityGroups", "DescribeSnapshots", "DescribeSpotInstanceRequests", "DescribeVolumes");
  static final Set<String> RESOURCE_INTENSIVE_ACTIONS = Set.of("AcceptVpcPeeringConnection", "AuthorizeSecurityGroupIngress",
      "CancelSpotInstanceRequests", "CreateKeyPair", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
      "RejectVpcPeeringConnection", "RevokeSecurityGroupIngress", "RequestSpotInstances");
  /**
   * "Uncategorized actions" with buckets of their own: those of the instance lifecycle and tags (the page lists many more,
   * none of which this operator calls). RunInstances is here, not among the resource-intensive actions: 5 tokens, 2 a second.
   */
  static final Map<String, Bucket> UNCATEGORIZED = Map.of("RunInstances", new Bucket(5, 2), "StartInstances", new Bucket(5, 2),
      "TerminateInstances", new Bucket(100, 5), "CreateTags", new Bucket(100, 10), "DeleteTags", new Bucket(100, 10));
  /** The resource token buckets: one token per instance the call starts, stops or ends. */
  static final Map<String, Bucket> RESOURCES = Map.of("RunInstances", new Bucket(1000, 2), "TerminateInstances", new Bucket(1000, 20),
      "StartInstances", new Bucket(1000, 2), "StopInstances", new Bucket(1000, 20));

  public Ec2ApiLimits {
    overrides = Map.copyOf(overrides);
    if (!(share > 0 && share <= 1)) {
      throw new IllegalArgumentException("the share of EC2's API limits must be above 0 and at most 1, not " + share);
    }
  }

  /** EC2's request bucket for a call of {@code action}; {@code unfiltered}: one without a filter or pagination. */
  public Bucket request(String action, boolean unfiltered) {
    if (unfiltered && UNFILTERED_ACTIONS.contains(action)) {
      return overrides.getOrDefault(action + ".unfiltered", UNFILTERED_NON_MUTATING);
    }
    Bucket set = overrides.get(action);
    if (set != null) {
      return set;
    }
    if (UNCATEGORIZED.containsKey(action)) {
      return UNCATEGORIZED.get(action);
    }
    if (RESOURCE_INTENSIVE_ACTIONS.contains(action)) {
      return RESOURCE_INTENSIVE;
    }
    boolean reads = action.startsWith("Describe") || action.startsWith("List") || action.startsWith("Search") || action.startsWith("Get");
    return reads ? NON_MUTATING : MUTATING;
  }

  /** EC2's resource bucket of {@code action}, for the actions that have one. */
  public Optional<Bucket> resources(String action) {
    return Optional.ofNullable(overrides.getOrDefault(action + ".resources", RESOURCES.get(action)));
  }

  /**
   * The bucket this operator keeps for one of EC2's: its share of the refill, and of the capacity less two seconds' refill.
   * EC2 says it adds its tokens "every second": refilled in whole seconds, a bucket has up to a second's refill less than
   * one refilled smoothly, and a call reaches EC2 a little later than it was paced here (the second second). So RunInstances
   * (5, 2 a second) is paced at 1 at once, then 2 a second.
   */
  public Bucket paced(Bucket aws) {
    double rate = aws.refillPerSecond() * share;
    return new Bucket(Math.max(1, aws.capacity() * share - 2 * rate), rate);
  }

  /**
   * Overrides as {@code --ec2-api-limits} takes them: {@code Action=capacity/refill} entries, separated by commas, e.g.
   * {@code RunInstances=10/4,RunInstances.resources=2000/4}. Empty or null: none.
   */
  public static Ec2ApiLimits parse(String overrides, double share) {
    Map<String, Bucket> parsed = new LinkedHashMap<>();
    if (overrides != null) {
      for (String entry : overrides.split(",")) {
        if (entry.isBlank()) {
          continue;
        }
        String[] kv = entry.split("=", 2);
        String[] figures = kv.length == 2 ? kv[1].trim().split("/", 2) : new String[0];
        String key = kv[0].trim();
        if (figures.length != 2 || !key.matches("[A-Z][A-Za-z0-9]*(\\.unfiltered|\\.resources)?")) {
          throw new IllegalArgumentException("an EC2 API limit is Action=capacity/refill (Action.resources=..., "
              + "Action.unfiltered=...), e.g. RunInstances=10/4, not '" + entry.trim() + "'");
        }
        try {
          parsed.put(key, new Bucket(Double.parseDouble(figures[0].trim()), Double.parseDouble(figures[1].trim())));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("an EC2 API limit's capacity and refill are numbers: '" + entry.trim() + "'");
        }
      }
    }
    return new Ec2ApiLimits(parsed, share);
  }

  /** A figure as a person writes it: 2, 0.5. */
  static String format(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.format(Locale.ROOT, "%.2f", d).replaceAll("0+$", "");
  }
}
