package dev.trainingjob.operator.provider.ec2;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/** Counts AWS API calls by action and outcome (success, or the error code), after the SDK's retries. */
final class Ec2ApiMetrics implements ExecutionInterceptor {
  private final MeterRegistry registry;

  Ec2ApiMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    count(attributes, "success");
  }

  @Override
  public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
    String outcome = context.exception() instanceof AwsServiceException e && Ec2Errors.code(e) != null ? Ec2Errors.code(e) : "error";
    count(attributes, outcome);
  }

  private void count(ExecutionAttributes attributes, String outcome) {
    Counter.builder("trainingjob.aws.api.calls").description("AWS API calls by the ec2 provider, by action and outcome")
        .tag("action", String.valueOf(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME)))
        .tag("outcome", outcome).register(registry).increment();
  }
}
