package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.TrainingJob;
import java.util.List;
import software.amazon.awssdk.services.ec2.model.Tag;

/** The tags on everything the provider creates: how it finds its objects again after any restart. */
public final class Ec2Tags {
  private Ec2Tags() {}

  public static final String UID = "trainingjob.dev/uid";
  public static final String NAME = "trainingjob.dev/name";
  public static final String NAMESPACE = "trainingjob.dev/namespace";
  public static final String MANAGED_BY = "trainingjob.dev/managed-by";
  /** On instances only: the user cloud-init authorised the job's key for. */
  public static final String SSH_USER = "trainingjob.dev/ssh-user";

  /** The tags on everything made for a job. */
  static List<Tag> forJob(TrainingJob job, String operatorId) {
    return List.of(
        Tag.builder().key(UID).value(job.getMetadata().getUid()).build(),
        Tag.builder().key(NAME).value(job.getMetadata().getName()).build(),
        Tag.builder().key(NAMESPACE).value(job.getMetadata().getNamespace()).build(),
        Tag.builder().key(MANAGED_BY).value(operatorId).build());
  }

  /** EC2 refuses a tag value over 256 characters (and a security group description over 255). */
  static final int MAX_TAG_VALUE = 256;

  /** A text cut to what EC2 takes, so that a long namespace and name never make a launch fail for ever. */
  static String fit(String text, int max) {
    // cut without a marker: a security group description allows only a few punctuation characters
    return text.length() <= max ? text : text.substring(0, max);
  }

  /** The DescribeInstances / DescribeSecurityGroups filter name for a tag key. */
  public static String filter(String key) {
    return "tag:" + key;
  }
}
