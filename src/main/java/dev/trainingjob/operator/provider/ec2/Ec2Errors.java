package dev.trainingjob.operator.provider.ec2;

import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/** EC2 error codes the provider acts on. */
final class Ec2Errors {
  private Ec2Errors() {}

  /** Errors that mean "this instance type cannot be had here now": try the next fallback type. */
  static final Set<String> NO_CAPACITY = Set.of("InsufficientInstanceCapacity", "Unsupported", "InsufficientCapacity",
      "SpotMaxPriceTooLow", "MaxSpotInstanceCountExceeded", "InsufficientHostCapacity");

  static String code(AwsServiceException e) {
    return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
  }

  static String message(AwsServiceException e) {
    return e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null ? e.getMessage()
        : e.awsErrorDetails().errorMessage();
  }
}
