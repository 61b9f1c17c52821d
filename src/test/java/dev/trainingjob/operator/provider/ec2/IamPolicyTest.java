package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The IAM policy in deploy/: what it allows, and that the dangerous actions are scoped by tag. */
class IamPolicyTest {
  static final Path POLICY = Path.of("deploy/iam/trainingjob-operator-policy.json");
  /** What the admin replaces with the install's operator id (README: IAM). */
  static final String PLACEHOLDER = "REPLACE_WITH_OPERATOR_ID";

  static List<JsonNode> statements() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    new ObjectMapper().readTree(POLICY.toFile()).get("Statement").forEach(out::add);
    return out;
  }

  private static List<String> actions(JsonNode statement) {
    JsonNode a = statement.get("Action");
    List<String> out = new ArrayList<>();
    if (a.isArray()) {
      a.forEach(n -> out.add(n.asText()));
    } else {
      out.add(a.asText());
    }
    return out;
  }

  /** Every action some Allow statement grants ("ec2:RunInstances", ...). */
  static Set<String> allowed() throws IOException {
    Set<String> out = new TreeSet<>();
    for (JsonNode s : statements()) {
      if ("Allow".equals(s.get("Effect").asText())) {
        out.addAll(actions(s));
      }
    }
    return out;
  }

  @Test
  void destructiveActionsAreAllowedOnlyOnWhatCarriesTheManagedByTag() throws IOException {
    for (String action : List.of("ec2:TerminateInstances", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress")) {
      List<JsonNode> granting = statements().stream().filter(s -> "Allow".equals(s.get("Effect").asText()))
          .filter(s -> actions(s).contains(action)).toList();
      assertThat(granting).as(action).isNotEmpty().allSatisfy(s -> assertThat(s.at("/Condition/StringEquals")
          .get("aws:ResourceTag/" + Ec2Tags.MANAGED_BY)).as(action + " must require the managed-by tag").isNotNull());
    }
  }

  /**
   * Every managed-by condition names one install, through one placeholder the admin replaces with the operator id. The
   * placeholder can never be an operator id, so a policy attached unedited lets no operator launch or destroy anything,
   * and none names the id every install used to share.
   */
  @Test
  void theManagedByConditionsNameOneInstallThroughAPlaceholderNoOperatorCanCarry() throws IOException {
    List<String> values = new ArrayList<>();
    for (JsonNode s : statements()) {
      s.at("/Condition").forEach(operator -> operator.fields().forEachRemaining(condition -> {
        if (condition.getKey().endsWith("/" + Ec2Tags.MANAGED_BY)) {
          values.add(condition.getValue().asText());
        }
      }));
    }
    assertThat(values).hasSize(3).containsOnly(PLACEHOLDER);
    assertThat(OperatorId.problem(PLACEHOLDER)).isPresent();
    assertThat(java.nio.file.Files.readString(POLICY)).doesNotContain(OperatorId.FORMER_DEFAULT + "\"");
  }

  @Test
  void instancesCanOnlyBeLaunchedWithTheTagsAndImdsV2() throws IOException {
    JsonNode launch = statements().stream().filter(s -> "Allow".equals(s.get("Effect").asText()) && actions(s).contains("ec2:RunInstances")
        && s.get("Resource").toString().contains("instance/*")).findFirst().orElseThrow();
    assertThat(launch.at("/Condition/StringEquals").has("aws:RequestTag/" + Ec2Tags.MANAGED_BY)).isTrue();
    assertThat(launch.at("/Condition/Null").has("aws:RequestTag/" + Ec2Tags.UID)).isTrue();
    JsonNode imds = statements().stream().filter(s -> "Deny".equals(s.get("Effect").asText()) && actions(s).contains("ec2:RunInstances"))
        .findFirst().orElseThrow();
    assertThat(imds.at("/Condition/StringNotEquals/ec2:MetadataHttpTokens").asText()).isEqualTo("required");
  }
}
