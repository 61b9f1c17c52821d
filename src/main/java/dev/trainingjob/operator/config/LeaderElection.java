package dev.trainingjob.operator.config;

import java.time.Duration;

/**
 * Leader election through a Lease: of several operator replicas one reconciles (and sweeps orphans),
 * the others wait to take over.
 *
 * @param enabled off for a single replica (the demo, a laptop)
 * @param leaseName the Lease's name
 * @param leaseNamespace the Lease's namespace; null for the client's namespace
 * @param identity this replica's name in the Lease (the pod name); null for a generated one
 * @param leaseDuration how long a Lease holds without renewal
 * @param renewDeadline how long the leader tries to renew before it gives up
 * @param retryPeriod how often candidates try
 * @param exitOnStopLeading end the process when leadership is lost (a pod restarts clean)
 */
public record LeaderElection(boolean enabled, String leaseName, String leaseNamespace, String identity, Duration leaseDuration,
    Duration renewDeadline, Duration retryPeriod, boolean exitOnStopLeading) {
  public static LeaderElection off() {
    return new LeaderElection(false, "trainingjob-operator", null, null, Duration.ofSeconds(15), Duration.ofSeconds(10),
        Duration.ofSeconds(2), true);
  }

  public LeaderElection on(String namespace, String identity) {
    return new LeaderElection(true, leaseName, namespace, identity, leaseDuration, renewDeadline, retryPeriod, exitOnStopLeading);
  }

  public LeaderElection withTimings(Duration lease, Duration renew, Duration retry, boolean exitOnStop) {
    return new LeaderElection(enabled, leaseName, leaseNamespace, identity, lease, renew, retry, exitOnStop);
  }
}
