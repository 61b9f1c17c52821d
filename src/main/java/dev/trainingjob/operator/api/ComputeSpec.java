package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/** Where a job runs. Exactly one provider (a CEL rule of the CRD, see {@link CelRules}); the operator checks it too. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ComputeSpec {
  @JsonPropertyDescription("An EC2 instance launched for this job and terminated when it ends.")
  public Ec2Spec ec2;

  @JsonPropertyDescription("A machine that already exists, reached over SSH. It is never shut down by the operator.")
  public HostSpec host;

  @JsonPropertyDescription("The operator's own machine, through an SSH server on 127.0.0.1 (demo and tests).")
  public LocalSpec local;

  /** Names of the providers set, in a fixed order. */
  public List<String> named() {
    List<String> names = new ArrayList<>();
    if (ec2 != null) names.add("ec2");
    if (host != null) names.add("host");
    if (local != null) names.add("local");
    return names;
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Ec2Spec {
    @Required
    @Size(min = 1)
    @JsonPropertyDescription("The instance type, for example g5.xlarge.")
    public String instanceType;

    @JsonPropertyDescription("Instance types to try, in order, when the first has no capacity or is not offered.")
    public List<String> fallbackInstanceTypes;

    @JsonPropertyDescription("An AMI id (ami-...), a named image (ubuntu-22.04, ubuntu-24.04, al2023, debian-12, dlami-pytorch), "
        + "or ssm:/path of a public parameter holding an AMI id. Default: dlami-pytorch.")
    public String image;

    @Min(8)
    @JsonPropertyDescription("Size of the root volume in GiB (at least 8). Encrypted and deleted with the instance.")
    public Integer volumeSizeGiB;

    @JsonPropertyDescription("Launch a spot instance instead of on-demand. An interrupted spot instance is replaced by a new one, "
        + "and the script resumes from its checkpoint (spec.checkpoint).")
    public Boolean spot;

    public static final int DEFAULT_MAX_INTERRUPTIONS = 3;

    @io.fabric8.generator.annotation.Min(0)
    @io.fabric8.generator.annotation.Max(100)
    @JsonPropertyDescription("How many spot interruptions the job takes before it launches on-demand instead (or, with "
        + "onDemandFallback false, fails with SpotInterrupted). Default: 3.")
    public Integer maxInterruptions;

    @JsonPropertyDescription("After maxInterruptions, or when spot capacity cannot be had within spec.limits.maxPendingSeconds, "
        + "launch on-demand instead. Default: true.")
    public Boolean onDemandFallback;

    public static int maxInterruptionsOf(Ec2Spec s) {
      return s == null || s.maxInterruptions == null ? DEFAULT_MAX_INTERRUPTIONS : s.maxInterruptions;
    }

    public static boolean onDemandFallbackOf(Ec2Spec s) {
      return s == null || s.onDemandFallback == null || s.onDemandFallback;
    }

    @JsonPropertyDescription("The subnet to launch into; the default VPC's when empty.")
    public String subnetId;

    @Pattern("^[a-z_][a-z0-9_-]{0,31}$")
    @JsonPropertyDescription("The SSH user; by default it follows the image family (ubuntu, ec2-user, admin, centos, fedora). "
        + "Another name is created by cloud-init, with passwordless sudo.")
    public String sshUser;

    /**
     * The same spec (every field, through Jackson, so a field added later is kept) with the image
     * and instance types admission settled on.
     */
    public Ec2Spec admitted(String imageId, String primary, List<String> fallbacks) {
      Ec2Spec c = new com.fasterxml.jackson.databind.ObjectMapper().convertValue(this, Ec2Spec.class);
      c.image = imageId;
      c.instanceType = primary;
      c.fallbackInstanceTypes = fallbacks.isEmpty() ? null : List.copyOf(fallbacks);
      return c;
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class HostSpec {
    @Required
    @Size(min = 1)
    @JsonPropertyDescription("Host name or IP address of the machine.")
    public String address;

    @Min(1)
    @Max(65535)
    @JsonPropertyDescription("The SSH port. Default: 22.")
    public Integer port;

    @Required
    @Size(min = 1)
    @JsonPropertyDescription("The user to log in as.")
    public String user;

    @Required
    @Size(min = 1)
    @JsonPropertyDescription("Name of a Secret in the job's namespace holding the private key under ssh-privatekey.")
    public String privateKeySecret;

    @Required
    @Size(min = 1)
    @JsonPropertyDescription("The machine's SSH host public key, as in known_hosts (for example ssh-ed25519 AAAA...). "
        + "The connection is refused when the machine presents another key.")
    public String hostKey;

    @Min(0)
    @JsonPropertyDescription("What an hour of this machine costs in USD (a rented box, an amortised GPU): status.cost, "
        + "spec.limits.maxCostUSD and TrainingBudgets count with it. Without it the job's cost is unknown.")
    public Double hourlyPriceUSD;
  }

  /** The local provider's only setting is its price; its presence selects it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class LocalSpec {
    @Min(0)
    @JsonPropertyDescription("What an hour of this machine costs in USD (a rented box, an amortised GPU): status.cost, "
        + "spec.limits.maxCostUSD and TrainingBudgets count with it. Without it the job's cost is unknown.")
    public Double hourlyPriceUSD;
  }
}
