package dev.trainingjob.operator.provider.ec2;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How the ec2 provider works in an account.
 *
 * @param enabled whether the provider may start at all; false (the demo) builds no AWS client, so nothing asks AWS, or the
 *     SDK's default chains for a region or credentials, anything
 * @param region the AWS region; null takes the SDK's default chain (AWS_REGION, profile, instance metadata)
 * @param endpoint an EC2/SSM endpoint to use instead of AWS's (a VPC endpoint, LocalStack, the tests' fake)
 * @param sshCidrs where the operator's SSH connections come from: the only sources port 22 is opened to
 * @param sshPort the port sshd listens on in the images used (22 on every AWS image)
 * @param privateAddress connect to the instance's private address (operator in the same VPC) instead of its public one
 * @param instanceProfile the IAM instance profile instances run with (needed for spec.output.s3Uri); null for none
 * @param sweepInterval how often tagged instances are checked against live TrainingJobs
 * @param orphanGrace how old an instance without a TrainingJob must be before the sweeper terminates it
 * @param heartbeatTimeout how long an instance waits for its operator to check in (each probe does) before it
 *     powers itself off: the instance's dead-man's switch, armed by cloud-init at boot (see MachineGuard)
 * @param shutdownGrace added to spec.limits.maxRuntimeSeconds for the instance's power-off ceiling, counted from
 *     the driver's start
 * @param shutdownCommand the command that powers the instance off now, run as root by its guard with $1 = why
 * @param metadataUrl the instance metadata service as the instance reaches it, where the driver looks for a spot interruption
 *     notice (AWS's link-local address; a fake's in tests)
 * @param namespaces what each namespace's jobs may use (instance profile, subnets, S3 prefix); empty: no limits per namespace
 * @param apiLimits EC2's API rate limits for the account (AWS's defaults unless raised) and this install's share of them: every
 *     EC2 call is paced to stay inside them (see Ec2Pacing)
 */
public record Ec2Settings(
    boolean enabled,
    String region,
    URI endpoint,
    List<String> sshCidrs,
    int sshPort,
    boolean privateAddress,
    String instanceProfile,
    Duration sweepInterval,
    Duration orphanGrace,
    Duration heartbeatTimeout,
    Duration shutdownGrace,
    String shutdownCommand,
    String metadataUrl,
    Map<String, NamespaceAllowance> namespaces,
    Ec2ApiLimits apiLimits) {

  /**
   * Powers off at once, never scheduled (so no /run/nologin window locks the operator's SSH out); an instance
   * launched with shutdown behaviour terminate is then terminated.
   */
  public static final String DEFAULT_SHUTDOWN_COMMAND = "shutdown -h now";
  /** The instance metadata service, at the link-local address every EC2 instance reaches it on. */
  public static final String DEFAULT_METADATA_URL = "http://169.254.169.254";

  public Ec2Settings {
    if (heartbeatTimeout.toSeconds() < 1) {
      // the guard counts whole seconds: less would power every instance off at its first look
      throw new IllegalArgumentException("the ec2 heartbeat timeout must be at least 1s, not " + heartbeatTimeout);
    }
  }

  /**
   * The allowance of a namespace: its own entry, else the "*" entry; empty when allowances are
   * configured and neither applies (the namespace may not launch). Without any, every namespace
   * may use everything the operator's settings allow (one team per install).
   */
  public java.util.Optional<NamespaceAllowance> allowance(String namespace) {
    if (namespaces.isEmpty()) {
      return java.util.Optional.of(new NamespaceAllowance(null, null, null));
    }
    return java.util.Optional.ofNullable(namespaces.getOrDefault(namespace, namespaces.get(NamespaceAllowance.ANY_OTHER)));
  }

  /**
   * The instance profile a namespace's instances run with: its allowance's, else the operator's; none for a namespace
   * the allowances leave out (it may not launch, so it never borrows the operator's role either).
   */
  public String instanceProfileFor(String namespace) {
    if (namespaces.isEmpty()) {
      return instanceProfile;
    }
    return allowance(namespace).map(a -> a.instanceProfile() != null ? a.instanceProfile() : instanceProfile).orElse(null);
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.enabled = enabled;
    b.region = region;
    b.endpoint = endpoint;
    b.sshCidrs = sshCidrs;
    b.sshPort = sshPort;
    b.privateAddress = privateAddress;
    b.instanceProfile = instanceProfile;
    b.sweepInterval = sweepInterval;
    b.orphanGrace = orphanGrace;
    b.heartbeatTimeout = heartbeatTimeout;
    b.shutdownGrace = shutdownGrace;
    b.shutdownCommand = shutdownCommand;
    b.metadataUrl = metadataUrl;
    b.namespaces = namespaces;
    b.apiLimits = apiLimits;
    return b;
  }

  /** The one place the defaults are written (see OperatorConfig.Builder). */
  public static final class Builder {
    public boolean enabled = true;
    public String region;
    public URI endpoint;
    public List<String> sshCidrs = List.of();
    public int sshPort = 22;
    public boolean privateAddress = false;
    public String instanceProfile;
    public Duration sweepInterval = Duration.ofMinutes(5);
    public Duration orphanGrace = Duration.ofMinutes(15);
    public Duration heartbeatTimeout = Duration.ofMinutes(30);
    public Duration shutdownGrace = Duration.ofMinutes(15);
    public String shutdownCommand = DEFAULT_SHUTDOWN_COMMAND;
    public String metadataUrl = DEFAULT_METADATA_URL;
    public Map<String, NamespaceAllowance> namespaces = Map.of();
    public Ec2ApiLimits apiLimits = Ec2ApiLimits.AWS_DEFAULTS;

    private Builder() {
    }

    public Ec2Settings build() {
      return new Ec2Settings(enabled, region, endpoint, List.copyOf(sshCidrs), sshPort, privateAddress, instanceProfile, sweepInterval,
          orphanGrace, heartbeatTimeout, shutdownGrace, shutdownCommand, metadataUrl, Map.copyOf(namespaces),
          apiLimits);
    }
  }
}
