package dev.trainingjob.operator.provider.ec2;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the jobs of one namespace may use on AWS, set by whoever runs the operator: the instance
 * profile their instances run with, the subnets they may launch into, the S3 prefix their outputs
 * may go to. It is the boundary between teams that share one install and one account: the spec is
 * the team's, the allowance is the operator admin's.
 *
 * @param instanceProfile the profile instances of this namespace run with (instead of --ec2-instance-profile); null: that one
 * @param subnets the subnets allowed; null: any, empty: only the default VPC
 * @param s3Prefix what spec.output.s3Uri must start with; null: any the profile may write
 */
public record NamespaceAllowance(String instanceProfile, List<String> subnets, String s3Prefix) {
  /** The entry that applies to namespaces not named (when there is one). */
  public static final String ANY_OTHER = "*";

  public NamespaceAllowance {
    subnets = subnets == null ? null : List.copyOf(subnets);
    if (s3Prefix != null && !s3Prefix.matches("s3://[^/]+(/.*)?")) {
      throw new IllegalArgumentException("s3Prefix must be an s3://bucket/prefix/ URI, got " + s3Prefix);
    }
  }

  /**
   * Reads the operator's setting: a JSON object from namespace (or "*") to allowance, for example
   * {@code {"team-a": {"instanceProfile": "tj-team-a", "subnets": ["subnet-0abc"], "s3Prefix": "s3://ml/team-a/"}}}.
   * Unknown keys are refused, so a typo never silently widens what a team may use.
   */
  public static Map<String, NamespaceAllowance> parse(String json) {
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      Map<String, NamespaceAllowance> read = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .readValue(json, new TypeReference<LinkedHashMap<String, NamespaceAllowance>>() { });
      read.forEach((ns, a) -> {
        if (a == null) {
          throw new IllegalArgumentException("namespace " + ns + " has no allowance (write {} to allow everything)");
        }
      });
      return Map.copyOf(read);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("not a JSON object of namespace to {instanceProfile, subnets, s3Prefix}: "
          + e.getOriginalMessage(), e);
    }
  }

  /** Whether an S3 URI lies under the prefix (a prefix "s3://b/team-a" allows s3://b/team-a/x, not s3://b/team-ab). */
  boolean allowsS3(String uri) {
    if (s3Prefix == null) {
      return true;
    }
    String prefix = s3Prefix.endsWith("/") ? s3Prefix : s3Prefix + "/";
    // S3 keys are literal, but a client that normalises "team-a/../team-b" would write elsewhere
    if (java.util.Arrays.asList(uri.split("/", -1)).stream().anyMatch(segment -> segment.equals(".") || segment.equals(".."))) {
      return false;
    }
    return uri.startsWith(prefix) || uri.equals(s3Prefix.replaceAll("/+$", ""));
  }
}
