package dev.trainingjob.operator.provider.ec2;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The AWS clients of the ec2 provider. Credentials come from the SDK's default chain (IRSA or EKS
 * Pod Identity in a cluster, environment or profile elsewhere); retries, backoff and throttling
 * are the SDK's standard retry strategy, not ours. Every EC2 call is paced to EC2's API limits first
 * ({@link Ec2Pacing}), so throttling is what another client in the account causes, not this one.
 */
public record Ec2Clients(Ec2Client ec2, SsmClient ssm, Ec2Pacing pacing) implements AutoCloseable {
  public static Ec2Clients create(Ec2Settings settings, MeterRegistry meters) {
    return create(settings, DefaultCredentialsProvider.builder().build(), meters);
  }

  public static Ec2Clients create(Ec2Settings settings, AwsCredentialsProvider credentials, MeterRegistry meters) {
    var calls = new Ec2ApiMetrics(meters);
    var pacing = new Ec2Pacing(settings.apiLimits(), Clock.systemUTC(), meters);
    var ec2 = Ec2Client.builder().credentialsProvider(credentials)
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.standardRetryStrategy()).addExecutionInterceptor(pacing)
            .addExecutionInterceptor(calls));
    var ssm = SsmClient.builder().credentialsProvider(credentials)
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.standardRetryStrategy()).addExecutionInterceptor(calls));
    if (settings.region() != null) {
      ec2.region(Region.of(settings.region()));
      ssm.region(Region.of(settings.region()));
    }
    if (settings.endpoint() != null) {
      ec2.endpointOverride(settings.endpoint());
      ssm.endpointOverride(settings.endpoint());
    }
    return new Ec2Clients(ec2.build(), ssm.build(), pacing);
  }

  @Override
  public void close() {
    ec2.close();
    ssm.close();
  }
}
