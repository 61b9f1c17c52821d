package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes.Request;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.status.Conditions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded API enforces no RBAC, so a call the shipped role does not grant would pass every other
 * test and fail on a real cluster (a 403 on the first write of its kind). Here the operator talks with a
 * client of its own through whole ec2 lifecycles — a job that succeeds (its host key replaced, its
 * Secret updated), one deleted while it runs — and every request it made must be granted by
 * deploy/clusterrole.yaml (the chart's and the single-namespace Role's rules are checked equal to it
 * in HelmChartTest).
 */
class RbacCoversEveryCallTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String AGENT = "trainingjob-operator-under-rbac";
  /** /api/v1/... or /apis/GROUP/VERSION/..., namespaced or not, with a name and a subresource or not. */
  private static final Pattern RESOURCE = Pattern.compile(
      "^/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/[^/]+)?/([^/?]+)(?:/([^/?]+))?(?:/([^/?]+))?(?:\\?(.*))?$");

  @TempDir
  Path tmp;
  Ec2Harness h;

  @AfterEach
  void stop() {
    h.close();
  }

  @Test
  void everyRequestTheOperatorMakesIsGrantedByTheShippedRole() throws Exception {
    h = new Ec2Harness(tmp);
    h.operatorClient = h.api.newClient(AGENT);
    h.startOperator();

    h.create(Ec2Harness.job("finishes", "print('done')\n"));
    h.create(Ec2Harness.job("deleted", Ec2LifecycleTest.SLEEPER));
    await().atMost(Duration.ofSeconds(120)).until(() -> h.phase("finishes") == Phase.Succeeded
        && Conditions.isTrue(h.get("finishes").getStatus(), ConditionType.RELEASED));
    await().atMost(Duration.ofSeconds(120)).until(() -> h.phase("deleted") == Phase.Running);
    h.client().resource(h.get("deleted")).delete();
    await().atMost(Duration.ofSeconds(120)).until(() -> h.get("deleted") == null);

    Set<String> granted = granted(Path.of("deploy/clusterrole.yaml"));
    Set<String> used = new TreeSet<>();
    for (Request r : h.api.requests(r -> AGENT.equals(r.userAgent()))) {
      String call = call(r);
      if (call != null) {
        used.add(call);
      }
    }
    // the calls this lifecycle must make, so the check below saw them
    assertThat(used).contains("trainingjob.dev/trainingjobs watch", "trainingjob.dev/trainingjobs/status update",
        "/secrets create", "/secrets get", "/events create");
    assertThat(used).as("calls the shipped role does not grant (add them to deploy/clusterrole.yaml, the chart's "
        + "_helpers.tpl and deploy/single-namespace/role.yaml)").allMatch(granted::contains);
  }

  /** "group/resource[/subresource] verb" of a request; null for discovery and other non-resource URLs. */
  static String call(Request r) {
    Matcher m = RESOURCE.matcher(r.path());
    if (!m.matches() || r.path().startsWith("/apis/") && m.group(1) == null) {
      return null;
    }
    String group = m.group(1) == null ? "" : m.group(1);
    String resource = m.group(2);
    String name = m.group(3);
    String sub = m.group(4);
    String query = m.group(5) == null ? "" : m.group(5);
    String verb = switch (r.method()) {
      case "GET" -> query.contains("watch=true") ? "watch" : name == null ? "list" : "get";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> name == null ? "deletecollection" : "delete";
      default -> r.method();
    };
    return group + "/" + resource + (sub == null ? "" : "/" + sub) + " " + verb;
  }

  static Set<String> granted(Path role) throws Exception {
    Set<String> out = new TreeSet<>();
    for (var parser = YAML.getFactory().createParser(Files.readString(role)); ; ) {
      JsonNode doc = YAML.readTree(parser);
      if (doc == null) {
        return out;
      }
      doc.path("rules").forEach(rule -> rule.get("apiGroups").forEach(g -> rule.get("resources").forEach(res ->
          rule.get("verbs").forEach(v -> out.add(g.asText() + "/" + res.asText() + " " + v.asText())))));
    }
  }
}
