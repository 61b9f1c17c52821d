package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.SpecValidator;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.EventRecorder;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * Everything EC2 can tell before a launch, asked before anything is launched: the image exists and
 * its root snapshot fits spec.compute.ec2.volumeSizeGiB, the subnet exists, and each instance type
 * is offered and runs the image's architecture. Types that cannot are dropped from the admitted
 * list (with an Event); none left, an unknown image or subnet, or a volume too small: InvalidSpec
 * naming the field. Errors EC2 may get over (throttling, a timeout) are thrown and retried within
 * the pending deadline.
 */
final class Ec2Admission {
  private final Ec2Client ec2;
  private final ImageCatalog images;
  private final Ec2Settings settings;
  private final EventRecorder events;
  /** Instance types do not change: each is described once (empty: EC2 does not offer it here). */
  private final Map<String, Optional<List<String>>> architectures = new ConcurrentHashMap<>();

  Ec2Admission(Ec2Client ec2, ImageCatalog images, Ec2Settings settings, EventRecorder events) {
    this.ec2 = ec2;
    this.images = images;
    this.settings = settings;
    this.events = events;
  }

  ComputeSpec admit(TrainingJob job) {
    ComputeSpec.Ec2Spec spec = job.getSpec().compute == null ? null : job.getSpec().compute.ec2;
    if (spec == null || spec.instanceType == null || spec.instanceType.isBlank()) {
      throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.instanceType: required for the ec2 provider (the operator's default)");
    }
    checkConfigured(job, settings);
    checkAllowance(job, spec, settings);
    ImageCatalog.ResolvedImage image = images.resolve(spec.image);
    if (spec.volumeSizeGiB != null && image.rootSnapshotGiB() != null && spec.volumeSizeGiB < image.rootSnapshotGiB()) {
      throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.volumeSizeGiB is " + spec.volumeSizeGiB + " but image "
          + image.amiId() + " (" + image.name() + ") needs at least " + image.rootSnapshotGiB() + " GiB (its root snapshot): "
          + "set it to " + image.rootSnapshotGiB() + " or more, or leave it out");
    }
    if (spec.subnetId != null) {
      checkSubnet(spec.subnetId);
    }
    List<String> usable = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    List<String> unchecked = new ArrayList<>();
    for (String type : allTypes(spec)) {
      Optional<List<String>> archs = architectures(type);
      if (archs.isEmpty()) {
        refused.add(type + " (not offered in this region)");
      } else if (archs.get().isEmpty()) {
        unchecked.add(type);
        usable.add(type);
      } else if (image.architecture() != null && !archs.get().contains(image.architecture())) {
        refused.add(type + " (" + String.join("/", archs.get()) + ", but image " + image.amiId() + " is " + image.architecture() + ")");
      } else {
        usable.add(type);
      }
    }
    if (usable.isEmpty()) {
      throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.instanceType: no instance type the spec allows can run here: "
          + String.join(", ", refused));
    }
    if (!refused.isEmpty()) {
      events.warning(job, Reason.InstanceTypeUnavailable, "Not launching " + String.join(", ", refused) + "; trying " + usable);
    }
    if (!unchecked.isEmpty()) {
      events.warning(job, Reason.Unauthorized, "Instance types " + unchecked + " not checked before the launch: the operator's role "
          + "may not call ec2:DescribeInstanceTypes (add it from deploy/iam/trainingjob-operator-policy.json)");
    }
    ComputeSpec admitted = new ComputeSpec();
    // the AMI itself, not its name: a public parameter that moves on mid-wait changes nothing this job launches
    admitted.ec2 = spec.admitted(image.amiId(), usable.get(0), usable.subList(1, usable.size()));
    return admitted;
  }

  /** The operator settings a launch needs (without them nothing is launched), and what a spec may not ask of them. */
  static void checkConfigured(TrainingJob job, Ec2Settings settings) {
    if (settings.sshCidrs().isEmpty()) {
      throw new JobFailure(Reason.Ec2NotConfigured, "the operator has no SSH source CIDRs (--ec2-ssh-cidrs / TRAININGJOB_EC2_SSH_CIDRS): "
          + "it will not open SSH to the world, so it cannot launch");
    }
    // the validator refuses 22; an operator whose images listen for SSH elsewhere refuses that port too
    var access = job.getSpec().access;
    if (access != null && access.ports != null) {
      for (int i = 0; i < access.ports.size(); i++) {
        if (access.ports.get(i) != null && access.ports.get(i) == settings.sshPort()) {
          throw new JobFailure(Reason.InvalidSpec, "spec.access.ports[" + i + "]: " + SpecValidator.sshPortProblem(settings.sshPort()));
        }
      }
    }
    if (job.getSpec().output != null && job.getSpec().output.s3Uri != null
        && settings.instanceProfileFor(job.getMetadata().getNamespace()) == null) {
      throw new JobFailure(Reason.Ec2NotConfigured, "spec.output.s3Uri needs an instance profile the instance can write with; "
          + "the operator has none for namespace " + job.getMetadata().getNamespace()
          + " (--ec2-instance-profile, or instanceProfile in --ec2-namespace-allowances)");
    }
  }

  /** What the operator's admin allows the job's namespace: launching at all, the subnet, the S3 prefix. */
  static void checkAllowance(TrainingJob job, ComputeSpec.Ec2Spec spec, Ec2Settings settings) {
    String namespace = job.getMetadata().getNamespace();
    NamespaceAllowance allowance = settings.allowance(namespace).orElseThrow(() -> new JobFailure(Reason.InvalidSpec,
        "spec.compute.ec2: namespace " + namespace + " may not launch EC2 instances on this operator (namespaces allowed: "
            + settings.namespaces().keySet().stream().sorted().toList() + "; see --ec2-namespace-allowances)"));
    if (allowance.subnets() != null) {
      if (spec.subnetId == null && !allowance.subnets().isEmpty()) {
        throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.subnetId: namespace " + namespace + " must launch into one of "
            + allowance.subnets());
      }
      if (spec.subnetId != null && !allowance.subnets().contains(spec.subnetId)) {
        throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.subnetId: " + spec.subnetId + " is not allowed for namespace "
            + namespace + (allowance.subnets().isEmpty() ? " (only the default VPC is)" : "; allowed: " + allowance.subnets()));
      }
    }
    String s3Uri = job.getSpec().output == null ? null : job.getSpec().output.s3Uri;
    if (s3Uri != null && !allowance.allowsS3(s3Uri)) {
      throw new JobFailure(Reason.InvalidSpec, "spec.output.s3Uri: " + s3Uri + " is outside namespace " + namespace
          + "'s prefix " + allowance.s3Prefix());
    }
  }

  static List<String> allTypes(ComputeSpec.Ec2Spec spec) {
    List<String> types = new ArrayList<>();
    types.add(spec.instanceType);
    if (spec.fallbackInstanceTypes != null) {
      spec.fallbackInstanceTypes.stream().filter(t -> t != null && !t.isBlank() && !types.contains(t)).forEach(types::add);
    }
    return types;
  }

  private void checkSubnet(String subnetId) {
    try {
      if (ec2.describeSubnets(r -> r.subnetIds(subnetId)).subnets().isEmpty()) {
        throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.subnetId: subnet " + subnetId + " does not exist in this region");
      }
    } catch (AwsServiceException e) {
      switch (Ec2Errors.classify(e)) {
        case SUBNET -> throw new JobFailure(Reason.InvalidSpec, "spec.compute.ec2.subnetId: subnet " + subnetId
            + " does not exist in this region (" + Ec2Errors.code(e) + ")");
        case UNAUTHORIZED -> throw Ec2Provider.unauthorized("DescribeSubnets", e);
        default -> throw e;
      }
    }
  }

  private Optional<List<String>> architectures(String type) {
    Optional<List<String>> known = architectures.get(type);
    if (known != null) {
      return known;
    }
    Optional<List<String>> found;
    try {
      found = ec2.describeInstanceTypes(r -> r.instanceTypesWithStrings(type)).instanceTypes().stream().findFirst()
          .map(t -> t.processorInfo() == null ? List.<String>of() : t.processorInfo().supportedArchitecturesAsStrings());
    } catch (AwsServiceException e) {
      switch (Ec2Errors.classify(e)) {
        case TYPE_UNUSABLE -> found = Optional.empty();
        case UNAUTHORIZED -> {
          // a role from before this check: RunInstances still says whether the type runs, so only warn
          return Optional.of(List.of());
        }
        default -> throw e;
      }
    }
    architectures.put(type, found);
    return found;
  }
}
