package dev.trainingjob.operator.provider.ec2;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * How the ec2 provider works in an account.
 *
 * @param region the AWS region; null takes the SDK's default chain (AWS_REGION, profile, instance metadata)
 * @param endpoint an EC2/SSM endpoint to use instead of AWS's (a VPC endpoint, LocalStack, the tests' fake)
 * @param sshCidrs where the operator's SSH connections come from: the only sources port 22 is opened to
 * @param sshPort the port sshd listens on in the images used (22 on every AWS image)
 * @param privateAddress connect to the instance's private address (operator in the same VPC) instead of its public one
 * @param instanceProfile the IAM instance profile instances run with (needed for spec.output.s3Uri); null for none
 * @param sweepInterval how often tagged instances are checked against live TrainingJobs
 * @param orphanGrace how old an instance without a TrainingJob must be before the sweeper terminates it
 * @param shutdownGrace added to spec.limits.maxRuntimeSeconds for the instance's own shutdown (the dead-man's switch)
 * @param shutdownCeiling when the instance shuts itself down if the job sets no maxRuntimeSeconds
 * @param shutdownCommand run by the driver on the instance with $1 = minutes and $2 = seconds from now
 */
public record Ec2Settings(
    String region,
    URI endpoint,
    List<String> sshCidrs,
    int sshPort,
    boolean privateAddress,
    String instanceProfile,
    Duration sweepInterval,
    Duration orphanGrace,
    Duration shutdownGrace,
    Duration shutdownCeiling,
    String shutdownCommand) {

  /** Schedules a power-off, which an instance launched with shutdown behaviour terminate turns into termination. */
  public static final String DEFAULT_SHUTDOWN_COMMAND = "sudo -n shutdown -h +\"$1\"";

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.region = region;
    b.endpoint = endpoint;
    b.sshCidrs = sshCidrs;
    b.sshPort = sshPort;
    b.privateAddress = privateAddress;
    b.instanceProfile = instanceProfile;
    b.sweepInterval = sweepInterval;
    b.orphanGrace = orphanGrace;
    b.shutdownGrace = shutdownGrace;
    b.shutdownCeiling = shutdownCeiling;
    b.shutdownCommand = shutdownCommand;
    return b;
  }

  /** The one place the defaults are written (see OperatorConfig.Builder). */
  public static final class Builder {
    public String region;
    public URI endpoint;
    public List<String> sshCidrs = List.of();
    public int sshPort = 22;
    public boolean privateAddress = false;
    public String instanceProfile;
    public Duration sweepInterval = Duration.ofMinutes(5);
    public Duration orphanGrace = Duration.ofMinutes(15);
    public Duration shutdownGrace = Duration.ofMinutes(15);
    public Duration shutdownCeiling = Duration.ofHours(24);
    public String shutdownCommand = DEFAULT_SHUTDOWN_COMMAND;

    private Builder() {
    }

    public Ec2Settings build() {
      return new Ec2Settings(region, endpoint, List.copyOf(sshCidrs), sshPort, privateAddress, instanceProfile, sweepInterval,
          orphanGrace, shutdownGrace, shutdownCeiling, shutdownCommand);
    }
  }
}
