package dev.trainingjob.operator.provider.ec2;

import java.util.Locale;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * What an EC2 error code means for a launch: the README's error table, in code. Server errors are
 * not here: the SDK's retry policy owns them, and anything unclassified is retried by the
 * reconciler within the job's pending deadline. Throttling is the SDK's to retry too; one that
 * outlasts its retries waits for another turn (THROTTLED).
 */
final class Ec2Errors {
  private Ec2Errors() {}

  /** How the launch loop treats an error of RunInstances. */
  enum Kind {
    /** No capacity for this type now: the next type, then the whole list again with backoff. */
    CAPACITY,
    /** A vCPU or instance-count quota: the next type of another quota bucket, else QuotaExceeded. */
    QUOTA,
    /** The type is unknown, not offered here, or does not fit the image's architecture: the next type, else InvalidSpec. */
    TYPE_UNUSABLE,
    /** spec.compute.ec2.image cannot be launched: InvalidSpec. */
    IMAGE,
    /** spec.compute.ec2.subnetId does not exist: InvalidSpec. */
    SUBNET,
    /** The root volume does not fit the image (smaller than its snapshot): InvalidSpec on volumeSizeGiB. */
    VOLUME,
    /** The operator's role may not do this: Unauthorized, with the decode hint. */
    UNAUTHORIZED,
    /** Spot needs its service-linked role, and the operator may not create it: SpotRoleMissing. */
    SPOT_ROLE,
    /** The ClientToken already launched an instance (since terminated, or with other parameters): find it by token. */
    TOKEN_USED,
    /** EC2's API limits refused the call even after the SDK's retries (another client of the account uses them): later. */
    THROTTLED,
    /** Anything else: retried within the pending deadline. */
    OTHER
  }

  private static final Set<String> CAPACITY = Set.of("InsufficientInstanceCapacity", "InsufficientHostCapacity",
      "InsufficientCapacity", "UnfulfillableCapacity", "SpotMaxPriceTooLow", "InsufficientCapacityOnHost");
  private static final Set<String> QUOTA = Set.of("VcpuLimitExceeded", "InstanceLimitExceeded", "MaxSpotInstanceCountExceeded");

  static Kind classify(AwsServiceException e) {
    String code = code(e);
    if (code == null) {
      return Kind.OTHER;
    }
    if (CAPACITY.contains(code)) {
      return Kind.CAPACITY;
    }
    if (QUOTA.contains(code)) {
      return Kind.QUOTA;
    }
    if (code.equals("Unsupported") || code.equals("InvalidInstanceType")) {
      return Kind.TYPE_UNUSABLE;
    }
    if (code.equals("InvalidParameterValue") || code.equals("InvalidParameterCombination")) {
      String m = message(e).toLowerCase(Locale.ROOT);
      return m.contains("instancetype") || m.contains("instance type") || m.contains("architecture") ? Kind.TYPE_UNUSABLE : Kind.OTHER;
    }
    if (code.startsWith("InvalidAMIID.")) {
      return Kind.IMAGE;
    }
    if (code.startsWith("InvalidSubnetID.") || code.equals("InvalidSubnet")) {
      return Kind.SUBNET;
    }
    if (code.equals("InvalidBlockDeviceMapping")) {
      return Kind.VOLUME;
    }
    if (code.equals("UnauthorizedOperation")) {
      return Kind.UNAUTHORIZED;
    }
    if (code.equals("AuthFailure.ServiceLinkedRoleCreationNotPermitted")) {
      return Kind.SPOT_ROLE;
    }
    if (code.equals("RequestLimitExceeded")) {
      return Kind.THROTTLED;
    }
    if (code.equals("IdempotentInstanceTerminated") || code.equals("IdempotentParameterMismatch")) {
      return Kind.TOKEN_USED;
    }
    return Kind.OTHER;
  }

  /**
   * The vCPU quota an instance type counts against. EC2 buckets on-demand and spot quotas by the
   * letters before the generation (g5 and g6 share "G and VT"); the codes are Service Quotas' (null
   * where this table does not know one: the command then lists them).
   */
  record Quota(String bucket, String onDemandCode, String spotCode) {
    String describe(boolean spot) {
      String code = spot ? spotCode : onDemandCode;
      return (spot ? "All " + bucket + " Spot Instance Requests" : "Running On-Demand " + bucket + " instances")
          + " (vCPUs" + (code == null ? "" : ", quota code " + code) + ")";
    }

    String increaseCommand(boolean spot) {
      String code = spot ? spotCode : onDemandCode;
      return code == null ? "aws service-quotas list-service-quotas --service-code ec2 (then request-service-quota-increase)"
          : "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code " + code + " --desired-value <vCPUs>";
    }
  }

  static Quota quota(String instanceType) {
    String letters = instanceType.replaceAll("^([a-z]+).*", "$1");
    return switch (letters) {
      case "g", "gr", "vt" -> new Quota("G and VT", "L-DB2E81BA", "L-3819A6DF");
      case "p" -> new Quota("P", "L-417A185B", "L-7212CCBC");
      case "dl" -> new Quota("DL", "L-6E869C2A", "L-85EED4F7");
      case "inf" -> new Quota("Inf", null, null);
      case "trn" -> new Quota("Trn", null, null);
      case "x" -> new Quota("X", null, null);
      case "f" -> new Quota("F", null, null);
      case "hpc" -> new Quota("HPC", null, null);
      case "u" -> new Quota("High Memory", null, null);
      default -> new Quota("Standard (A, C, D, H, I, M, R, T, Z)", "L-1216C47A", "L-34B43A08");
    };
  }

  static String code(AwsServiceException e) {
    return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
  }

  static String message(AwsServiceException e) {
    return e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null ? e.getMessage()
        : e.awsErrorDetails().errorMessage();
  }
}
