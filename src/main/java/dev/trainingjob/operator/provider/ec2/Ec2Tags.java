package dev.trainingjob.operator.provider.ec2;

/** The tags on everything the provider creates: how it finds its objects again after any restart. */
public final class Ec2Tags {
  private Ec2Tags() {}

  public static final String UID = "trainingjob.dev/uid";
  public static final String NAME = "trainingjob.dev/name";
  public static final String NAMESPACE = "trainingjob.dev/namespace";
  public static final String MANAGED_BY = "trainingjob.dev/managed-by";
  /** On instances only: the user cloud-init authorised the job's key for. */
  public static final String SSH_USER = "trainingjob.dev/ssh-user";

  /** The DescribeInstances / DescribeSecurityGroups filter name for a tag key. */
  public static String filter(String key) {
    return "tag:" + key;
  }
}
