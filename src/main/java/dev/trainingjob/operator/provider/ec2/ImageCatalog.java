package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.job.JobFailure;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;

/**
 * Turns spec.compute.ec2.image into an AMI: an AMI id as written, a named image through AWS's
 * public SSM parameters, or any parameter written as {@code ssm:/path}. The SSH user follows the
 * image family, read from the AMI's name.
 */
final class ImageCatalog {
  /** What a launch needs to know about an image. */
  record ResolvedImage(String amiId, String name, String rootDeviceName, String defaultUser, String architecture,
      Integer rootSnapshotGiB) {}

  /** Named images and the public parameter that holds the current AMI of each (x86_64). */
  static final Map<String, String> NAMED = Map.of(
      "ubuntu-22.04", "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
      "ubuntu-24.04", "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
      "al2023", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
      "debian-12", "/aws/service/debian/release/12/latest/amd64",
      "dlami-pytorch", "/aws/service/deeplearning/ami/x86_64/oss-nvidia-driver-gpu-pytorch-2.9-ubuntu-24.04/latest/ami-id");

  /** The image used when a job names none: the Deep Learning AMI, whose drivers and PyTorch make bootstrap fast. */
  static final String DEFAULT_IMAGE = "dlami-pytorch";

  private final Ec2Client ec2;
  private final SsmClient ssm;
  /** AMIs do not change: described once per id. */
  private final Map<String, ResolvedImage> described = new ConcurrentHashMap<>();

  ImageCatalog(Ec2Client ec2, SsmClient ssm) {
    this.ec2 = ec2;
    this.ssm = ssm;
  }

  ResolvedImage resolve(String image) {
    String wanted = image == null || image.isBlank() ? DEFAULT_IMAGE : image.trim();
    String ami;
    if (wanted.startsWith("ami-")) {
      ami = wanted;
    } else if (wanted.startsWith("ssm:")) {
      ami = parameter(wanted.substring(4), wanted);
    } else if (NAMED.containsKey(wanted)) {
      ami = parameter(NAMED.get(wanted), wanted);
    } else {
      throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.image " + wanted + " is neither an AMI id (ami-...), ssm:/parameter/path, "
          + "nor one of " + NAMED.keySet().stream().sorted().toList());
    }
    return described.computeIfAbsent(ami, this::describe);
  }

  private String parameter(String path, String wanted) {
    try {
      return ssm.getParameter(r -> r.name(path)).parameter().value().trim();
    } catch (ParameterNotFoundException e) {
      throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.image " + wanted + ": the SSM parameter " + path + " does not exist in this region");
    } catch (software.amazon.awssdk.services.ssm.model.SsmException e) {
      if (e.awsErrorDetails() != null && "AccessDeniedException".equals(e.awsErrorDetails().errorCode())) {
        throw new JobFailure(Reason.Unauthorized, "the operator's AWS role may not read the SSM parameter " + path + " (image "
            + wanted + "): allow ssm:GetParameter on it (deploy/iam/trainingjob-operator-policy.json), or name an AMI id");
      }
      throw e;
    }
  }

  private ResolvedImage describe(String ami) {
    List<Image> images;
    try {
      images = ec2.describeImages(r -> r.imageIds(ami)).images();
    } catch (AwsServiceException e) {
      String code = Ec2Errors.code(e);
      if (Ec2Errors.classify(e) == Ec2Errors.Kind.UNAUTHORIZED) {
        throw Ec2Provider.unauthorized("DescribeImages", e);
      }
      if (code == null || !code.startsWith("InvalidAMIID")) {
        throw e;
      }
      images = List.of();
    }
    if (images.isEmpty()) {
      throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.image: " + ami + " does not exist in this region or is not shared with this account");
    }
    Image image = images.get(0);
    String name = image.name() == null ? "" : image.name();
    Integer snapshotGiB = image.blockDeviceMappings().stream()
        .filter(m -> m.deviceName() != null && m.deviceName().equals(image.rootDeviceName()) && m.ebs() != null)
        .map(m -> m.ebs().volumeSize()).findFirst().orElse(null);
    return new ResolvedImage(ami, name, image.rootDeviceName(), userFor(name + " " + nullToEmpty(image.description())),
        image.architectureAsString(), snapshotGiB);
  }

  /** The login user of an image family, from its name; null when the family is unknown. */
  static String userFor(String imageText) {
    String t = imageText.toLowerCase(Locale.ROOT);
    if (t.contains("ubuntu")) return "ubuntu";
    if (t.contains("debian")) return "admin";
    if (t.contains("centos")) return "centos";
    if (t.contains("fedora")) return "fedora";
    if (t.contains("al2023") || t.contains("amzn") || t.contains("amazon linux") || t.contains("rhel")
        || t.contains("red hat") || t.contains("suse") || t.contains("sles")) {
      return "ec2-user";
    }
    return null;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
