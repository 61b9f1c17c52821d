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

  public static Ec2Settings defaults() {
    return new Ec2Settings(null, null, List.of(), 22, false, null, Duration.ofMinutes(5), Duration.ofMinutes(15),
        Duration.ofMinutes(15), Duration.ofHours(24), DEFAULT_SHUTDOWN_COMMAND);
  }

  public Ec2Settings withAccount(String region, URI endpoint) {
    return new Ec2Settings(region, endpoint, sshCidrs, sshPort, privateAddress, instanceProfile, sweepInterval, orphanGrace,
        shutdownGrace, shutdownCeiling, shutdownCommand);
  }

  public Ec2Settings withSsh(List<String> cidrs, int port, boolean usePrivateAddress) {
    return new Ec2Settings(region, endpoint, List.copyOf(cidrs), port, usePrivateAddress, instanceProfile, sweepInterval,
        orphanGrace, shutdownGrace, shutdownCeiling, shutdownCommand);
  }

  public Ec2Settings withInstanceProfile(String profile) {
    return new Ec2Settings(region, endpoint, sshCidrs, sshPort, privateAddress, profile, sweepInterval, orphanGrace,
        shutdownGrace, shutdownCeiling, shutdownCommand);
  }

  public Ec2Settings withSweep(Duration interval, Duration grace) {
    return new Ec2Settings(region, endpoint, sshCidrs, sshPort, privateAddress, instanceProfile, interval, grace,
        shutdownGrace, shutdownCeiling, shutdownCommand);
  }

  public Ec2Settings withShutdown(Duration grace, Duration ceiling, String command) {
    return new Ec2Settings(region, endpoint, sshCidrs, sshPort, privateAddress, instanceProfile, sweepInterval, orphanGrace,
        grace, ceiling, command);
  }
}
