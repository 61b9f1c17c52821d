package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.TrainingJob;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.ec2.model.BlockDeviceMapping;
import software.amazon.awssdk.services.ec2.model.EbsBlockDevice;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.InstanceInterruptionBehavior;
import software.amazon.awssdk.services.ec2.model.InstanceNetworkInterfaceSpecification;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.MarketType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.ShutdownBehavior;
import software.amazon.awssdk.services.ec2.model.SpotInstanceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.VolumeType;

/**
 * The RunInstances request of one launch attempt: everything a job's instance is asked to be
 * (tagged at creation, IMDSv2 only, terminated by its own shutdown, an encrypted root volume that
 * goes with it), with a ClientToken that makes a repeated request return the same instance.
 */
final class LaunchRequest {
  private LaunchRequest() {}

  /** Same job, same attempt, same instance type: the same token, so EC2 launches at most one instance for it. */
  static String clientToken(TrainingJob job, int typeIndex) {
    return job.getMetadata().getUid() + "-a" + launchNumber(job) + "-t" + typeIndex;
  }

  /**
   * Which launch of the job this is: status.launch, counted up for each new instance after the first (a spot interruption, a
   * token whose instance went away); before there was one, status.attempt (what the first release counted launches in).
   */
  static int launchNumber(TrainingJob job) {
    var status = job.getStatus();
    if (status == null) {
      return 1;
    }
    return status.launch != null ? status.launch : status.attempt == null ? 1 : status.attempt;
  }

  /** Spot when the spec asks for it and the job has not given spot up (status.onDemandFallback). */
  static boolean spot(TrainingJob job) {
    var spec = job.admittedCompute().ec2;
    return Boolean.TRUE.equals(spec.spot) && !(job.getStatus() != null && Boolean.TRUE.equals(job.getStatus().onDemandFallback));
  }

  static RunInstancesRequest build(TrainingJob job, Ec2Settings settings, String operatorId, ImageCatalog.ResolvedImage image,
      String user, String type, int typeIndex, String groupId, String userData, boolean askPublicIp) {
    var spec = job.admittedCompute().ec2;
    var b = RunInstancesRequest.builder()
        .imageId(image.amiId())
        .instanceType(type)
        .minCount(1).maxCount(1)
        .clientToken(clientToken(job, typeIndex))
        .userData(userData)
        .instanceInitiatedShutdownBehavior(ShutdownBehavior.TERMINATE)
        .metadataOptions(m -> m.httpTokens(HttpTokensState.REQUIRED).httpEndpoint(InstanceMetadataEndpointState.ENABLED))
        .tagSpecifications(
            TagSpecification.builder().resourceType(ResourceType.INSTANCE).tags(instanceTags(job, operatorId, user)).build(),
            TagSpecification.builder().resourceType(ResourceType.VOLUME).tags(Ec2Tags.forJob(job, operatorId)).build());
    if (image.rootDeviceName() != null) {
      b.blockDeviceMappings(BlockDeviceMapping.builder().deviceName(image.rootDeviceName())
          .ebs(EbsBlockDevice.builder().volumeSize(spec.volumeSizeGiB).volumeType(VolumeType.GP3)
              .encrypted(true).deleteOnTermination(true).build())
          .build());
    }
    if (askPublicIp) {
      // EC2 takes AssociatePublicIpAddress only on a network interface, with the subnet and groups there too
      b.networkInterfaces(InstanceNetworkInterfaceSpecification.builder().deviceIndex(0).subnetId(spec.subnetId)
          .groups(groupId).associatePublicIpAddress(true).deleteOnTermination(true).build());
    } else {
      b.securityGroupIds(groupId);
      if (spec.subnetId != null) {
        b.subnetId(spec.subnetId);
      }
    }
    String profile = settings.instanceProfileFor(job.getMetadata().getNamespace());
    if (profile != null) {
      b.iamInstanceProfile(p -> p.name(profile));
    }
    if (spot(job)) {
      b.instanceMarketOptions(m -> m.marketType(MarketType.SPOT).spotOptions(s -> s
          .spotInstanceType(SpotInstanceType.ONE_TIME).instanceInterruptionBehavior(InstanceInterruptionBehavior.TERMINATE)));
    }
    return b.build();
  }

  /** The instance also says whom cloud-init authorised, so a restarted operator logs in as the same user. */
  private static List<Tag> instanceTags(TrainingJob job, String operatorId, String user) {
    List<Tag> t = new ArrayList<>(Ec2Tags.forJob(job, operatorId));
    t.add(Tag.builder().key(Ec2Tags.SSH_USER).value(user).build());
    t.add(Tag.builder().key("Name").value(Ec2Tags.fit("trainingjob/" + job.getMetadata().getNamespace() + "/"
        + job.getMetadata().getName(), Ec2Tags.MAX_TAG_VALUE)).build());
    return t;
  }
}
