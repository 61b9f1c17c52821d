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
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.enabled = enabled;
    b.leaseName = leaseName;
    b.leaseNamespace = leaseNamespace;
    b.identity = identity;
    b.leaseDuration = leaseDuration;
    b.renewDeadline = renewDeadline;
    b.retryPeriod = retryPeriod;
    b.exitOnStopLeading = exitOnStopLeading;
    return b;
  }

  /** The one place the defaults are written (see OperatorConfig.Builder). */
  public static final class Builder {
    public boolean enabled = false;
    public String leaseName = "trainingjob-operator";
    public String leaseNamespace;
    public String identity;
    public Duration leaseDuration = Duration.ofSeconds(15);
    public Duration renewDeadline = Duration.ofSeconds(10);
    public Duration retryPeriod = Duration.ofSeconds(2);
    public boolean exitOnStopLeading = true;

    private Builder() {
    }

    public LeaderElection build() {
      return new LeaderElection(enabled, leaseName, leaseNamespace, identity, leaseDuration, renewDeadline, retryPeriod,
          exitOnStopLeading);
    }
  }
}
