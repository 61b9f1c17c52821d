package dev.trainingjob.operator.provider.ec2;

import io.micrometer.core.instrument.MeterRegistry;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The AWS clients of the ec2 provider. Credentials come from the SDK's default chain (IRSA or EKS
 * Pod Identity in a cluster, environment or profile elsewhere); retries, backoff and throttling
 * are the SDK's standard retry strategy, not ours.
 */
public record Ec2Clients(Ec2Client ec2, SsmClient ssm) implements AutoCloseable {
  public static Ec2Clients create(Ec2Settings settings, MeterRegistry meters) {
    return create(settings, DefaultCredentialsProvider.builder().build(), meters);
  }

  public static Ec2Clients create(Ec2Settings settings, AwsCredentialsProvider credentials, MeterRegistry meters) {
    var calls = new Ec2ApiMetrics(meters);
    var ec2 = Ec2Client.builder().credentialsProvider(credentials)
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.standardRetryStrategy()).addExecutionInterceptor(calls));
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
    return new Ec2Clients(ec2.build(), ssm.build());
  }

  @Override
  public void close() {
    ec2.close();
    ssm.close();
  }
}
