package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.job.Reason;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.JobFailure;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.Ipv6Range;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * One security group per job: SSH only from the operator's CIDRs, the job's ports only from the
 * CIDRs the job names. Found again by its uid tag, so creating it is safe to repeat; rules missing
 * after a crash between create and authorize are added on the next pass.
 */
final class SecurityGroups {
  /** One inbound rule: a TCP port and a source. */
  record Rule(int port, String cidr, String description) {}

  private final Ec2Client ec2;
  private final Ec2Settings settings;
  private final String operatorId;

  SecurityGroups(Ec2Client ec2, Ec2Settings settings, String operatorId) {
    this.ec2 = ec2;
    this.settings = settings;
    this.operatorId = operatorId;
  }

  /** EC2 refuses a group or rule description over 255 characters. */
  static final int MAX_DESCRIPTION = 255;

  static String groupName(TrainingJob job) {
    return "trainingjob-" + job.getMetadata().getUid();
  }

  /**
   * The rules a job's group must have, one per (port, CIDR): EC2 refuses a call that names the same
   * permission twice, which an SSH CIDR that spec.access repeats would otherwise do.
   */
  List<Rule> rulesFor(TrainingJob job) {
    Map<String, Rule> rules = new LinkedHashMap<>();
    for (String cidr : settings.sshCidrs()) {
      rules.putIfAbsent(settings.sshPort() + " " + cidr.trim(), new Rule(settings.sshPort(), cidr.trim(), "SSH from the trainingjob operator"));
    }
    var access = job.getSpec().access;
    if (access != null && access.ports != null && access.allowedCidrs != null) {
      for (Integer port : access.ports) {
        for (String cidr : access.allowedCidrs) {
          rules.putIfAbsent(port + " " + cidr.trim(), new Rule(port, cidr.trim(),
              Ec2Tags.fit("spec.access of " + job.getMetadata().getName(), MAX_DESCRIPTION)));
        }
      }
    }
    return new ArrayList<>(rules.values());
  }

  /** The group's id, creating the group and its missing rules as needed. */
  String ensure(TrainingJob job, String vpcId) {
    SecurityGroup group = find(job).orElse(null);
    String id;
    if (group == null) {
      id = create(job, vpcId);
      group = SecurityGroup.builder().groupId(id).ipPermissions(List.of()).build();
    } else {
      id = group.groupId();
    }
    List<IpPermission> missing = new ArrayList<>();
    for (Rule rule : rulesFor(job)) {
      if (!has(group, rule)) {
        missing.add(permission(rule));
      }
    }
    if (!missing.isEmpty()) {
      try {
        ec2.authorizeSecurityGroupIngress(r -> r.groupId(id).ipPermissions(missing));
      } catch (AwsServiceException e) {
        if (!"InvalidPermission.Duplicate".equals(Ec2Errors.code(e))) {
          throw e;
        }
        // a call is all or nothing: one rule added meanwhile (a lost answer) kept the others out, so add them one by one
        for (IpPermission one : missing) {
          try {
            ec2.authorizeSecurityGroupIngress(r -> r.groupId(id).ipPermissions(one));
          } catch (AwsServiceException again) {
            if (!"InvalidPermission.Duplicate".equals(Ec2Errors.code(again))) {
              throw again;
            }
          }
        }
      }
    }
    return id;
  }

  /** IPv4 CIDRs go in IpRanges and IPv6 ones in Ipv6Ranges: EC2 refuses either in the other. */
  private static IpPermission permission(Rule rule) {
    var p = IpPermission.builder().ipProtocol("tcp").fromPort(rule.port()).toPort(rule.port());
    if (rule.cidr().contains(":")) {
      p.ipv6Ranges(Ipv6Range.builder().cidrIpv6(rule.cidr()).description(rule.description()).build());
    } else {
      p.ipRanges(IpRange.builder().cidrIp(rule.cidr()).description(rule.description()).build());
    }
    return p.build();
  }

  private String create(TrainingJob job, String vpcId) {
    try {
      return ec2.createSecurityGroup(r -> r.groupName(groupName(job)).vpcId(vpcId)
          .description(Ec2Tags.fit("trainingjob " + job.getMetadata().getNamespace() + "/" + job.getMetadata().getName(), MAX_DESCRIPTION))
          .tagSpecifications(TagSpecification.builder().resourceType(ResourceType.SECURITY_GROUP)
              .tags(tags(job)).build())).groupId();
    } catch (AwsServiceException e) {
      if ("InvalidGroup.Duplicate".equals(Ec2Errors.code(e))) {
        // made by an earlier attempt whose answer was lost
        return find(job).map(SecurityGroup::groupId).orElseThrow(() -> e);
      }
      if ("VPCIdNotSpecified".equals(Ec2Errors.code(e))) {
        throw new JobFailure(Reason.InvalidSpec, "this region of the account has no default VPC: set spec.compute.ec2.subnetId");
      }
      throw e;
    }
  }

  Optional<SecurityGroup> find(TrainingJob job) {
    var groups = ec2.describeSecurityGroups(r -> r.filters(
        Filter.builder().name(Ec2Tags.filter(Ec2Tags.UID)).values(job.getMetadata().getUid()).build(),
        Filter.builder().name(Ec2Tags.filter(Ec2Tags.MANAGED_BY)).values(operatorId).build())).securityGroups();
    return groups.stream().findFirst();
  }

  /** Every group this operator made, for the sweeper. */
  List<SecurityGroup> allManaged() {
    List<SecurityGroup> all = new ArrayList<>();
    ec2.describeSecurityGroupsPaginator(r -> r.filters(
        Filter.builder().name(Ec2Tags.filter(Ec2Tags.MANAGED_BY)).values(operatorId).build()))
        .securityGroups().forEach(all::add);
    return all;
  }

  /**
   * Deletes the group; false while an instance's network interface still holds it
   * (DependencyViolation lasts a little while after termination).
   */
  boolean delete(String groupId) {
    try {
      ec2.deleteSecurityGroup(r -> r.groupId(groupId));
      return true;
    } catch (AwsServiceException e) {
      String code = Ec2Errors.code(e);
      if ("InvalidGroup.NotFound".equals(code)) {
        return true;
      }
      if ("DependencyViolation".equals(code)) {
        return false;
      }
      throw e;
    }
  }

  List<Tag> tags(TrainingJob job) {
    return Ec2Tags.forJob(job, operatorId);
  }

  private static boolean has(SecurityGroup group, Rule rule) {
    return group.ipPermissions().stream().anyMatch(p -> "tcp".equals(p.ipProtocol())
        && p.fromPort() != null && p.fromPort() == rule.port() && p.toPort() != null && p.toPort() == rule.port()
        && (p.ipRanges().stream().anyMatch(r -> rule.cidr().equals(r.cidrIp()))
            || p.ipv6Ranges().stream().anyMatch(r -> rule.cidr().equalsIgnoreCase(r.cidrIpv6()))));
  }
}
