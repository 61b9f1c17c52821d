package dev.trainingjob.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The chart lints strictly, renders with several value sets, and says the same as deploy/ and crds/. */
class HelmChartTest {
  static final Path CHART = Path.of("helm/trainingjob-operator");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** The rendered objects, by kind/name, with the given values (as a values file: lists and dotted keys as users write them). */
  static Map<String, JsonNode> render(String valuesYaml) throws Exception {
    Path values = Files.createTempFile("values", ".yaml");
    try {
      Files.writeString(values, valuesYaml);
      return objects(new Helm(CHART).template().withName("tj").withNamespace("trainingjob-system").withValuesFile(values).call());
    } finally {
      Files.deleteIfExists(values);
    }
  }

  static Map<String, JsonNode> objects(String yaml) throws Exception {
    Map<String, JsonNode> out = new TreeMap<>();
    for (var parser = YAML.getFactory().createParser(yaml); ; ) {
      JsonNode doc = YAML.readTree(parser);
      if (doc == null) {
        break;
      }
      if (doc.isObject() && doc.has("kind")) {
        String ns = doc.at("/metadata/namespace").asText("");
        out.put(doc.get("kind").asText() + "/" + (ns.isEmpty() ? "" : ns + "/") + doc.at("/metadata/name").asText(), doc);
      }
    }
    return out;
  }

  static Map<String, JsonNode> objects(Path file) throws Exception {
    return objects(Files.readString(file));
  }

  private static Map<String, String> env(JsonNode deployment) {
    Map<String, String> env = new TreeMap<>();
    deployment.at("/spec/template/spec/containers/0/env").forEach(e ->
        env.put(e.get("name").asText(), e.has("value") ? e.get("value").asText() : "from:" + e.at("/valueFrom/fieldRef/fieldPath").asText()));
    return env;
  }

  @Test
  void theChartLintsStrictly() {
    var result = new Helm(CHART).lint().strict().call();
    assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
  }

  @Test
  void defaultsWatchEveryNamespaceWithLeaderElectionProbesAndALockedDownPod() throws Exception {
    Map<String, JsonNode> objects = render("{}");
    JsonNode deployment = objects.get("Deployment/trainingjob-system/tj-trainingjob-operator");
    assertThat(deployment).isNotNull();
    assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(2);
    JsonNode container = deployment.at("/spec/template/spec/containers/0");
    assertThat(container.at("/image").asText()).isEqualTo("ghcr.io/trainingjob-operator/trainingjob-operator:0.1.0");
    assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/healthz");
    assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
    assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean()).isFalse();
    assertThat(container.at("/resources/limits/memory").asText()).isEqualTo("768Mi");
    assertThat(deployment.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean()).isTrue();
    assertThat(env(deployment)).containsEntry("TRAININGJOB_LEADER_ELECTION", "true")
        .containsEntry("TRAININGJOB_LEADER_IDENTITY", "from:metadata.name")
        // no default provider and no operator id: every job names its provider, and EC2 waits for an id of this install's own
        .doesNotContainKeys("TRAININGJOB_NAMESPACES", "TRAININGJOB_DEFAULT_PROVIDER", "TRAININGJOB_OPERATOR_ID",
            "TRAININGJOB_ENABLE_LOCAL_PROVIDER");
    assertThat(objects).containsKeys("ClusterRole/tj-trainingjob-operator", "ClusterRoleBinding/tj-trainingjob-operator",
        "ServiceAccount/trainingjob-system/tj-trainingjob-operator", "Service/trainingjob-system/tj-trainingjob-operator-metrics");
    // the one Role is leader election's, in the operator's own namespace
    assertThat(objects.keySet().stream().filter(k -> k.startsWith("Role/"))).containsExactlyInAnyOrder(
        "Role/trainingjob-system/tj-trainingjob-operator-leader-election", "Role/trainingjob-system/tj-trainingjob-operator-outputs-reader");
  }

  @Test
  void valuesReachTheOperatorsEnvironmentAndTheServiceAccount() throws Exception {
    Map<String, JsonNode> objects = render("""
        aws: {region: eu-west-1}
        operatorId: ml-prod-eu1
        ec2: {sshCidrs: [198.51.100.7/32, 10.0.0.0/16], instanceProfile: trainingjob-instance, heartbeatTimeout: 45m,
              apiLimits: "RunInstances=10/4,RunInstances.resources=2000/4", apiShare: 0.5}
        defaultProvider: host
        leaderElection: {enabled: false}
        metrics: {port: 9090}
        image: {tag: "0.2.0"}
        serviceAccount:
          annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/trainingjob-operator"}
        """);
    JsonNode deployment = objects.get("Deployment/trainingjob-system/tj-trainingjob-operator");
    assertThat(env(deployment)).containsEntry("TRAININGJOB_EC2_REGION", "eu-west-1")
        .containsEntry("TRAININGJOB_EC2_SSH_CIDRS", "198.51.100.7/32,10.0.0.0/16")
        .containsEntry("TRAININGJOB_EC2_INSTANCE_PROFILE", "trainingjob-instance").containsEntry("TRAININGJOB_DEFAULT_PROVIDER", "host")
        .containsEntry("TRAININGJOB_LEADER_ELECTION", "false").containsEntry("TRAININGJOB_METRICS_PORT", "9090")
        .containsEntry("TRAININGJOB_EC2_HEARTBEAT_TIMEOUT", "45m").containsEntry("TRAININGJOB_OPERATOR_ID", "ml-prod-eu1")
        .containsEntry("TRAININGJOB_EC2_API_LIMITS", "RunInstances=10/4,RunInstances.resources=2000/4")
        .containsEntry("TRAININGJOB_EC2_API_SHARE", "0.5");
    assertThat(deployment.at("/spec/replicas").asInt()).as("one replica without an election").isEqualTo(1);
    assertThat(deployment.at("/spec/template/spec/containers/0/image").asText()).endsWith(":0.2.0");
    assertThat(deployment.at("/spec/template/spec/containers/0/ports/0/containerPort").asInt()).isEqualTo(9090);
    assertThat(objects.get("ServiceAccount/trainingjob-system/tj-trainingjob-operator").at("/metadata/annotations")
        .get("eks.amazonaws.com/role-arn").asText()).isEqualTo("arn:aws:iam::123456789012:role/trainingjob-operator");
  }

  @Test
  void watchingNamespacesGivesRolesThereAndNoClusterRole() throws Exception {
    Map<String, JsonNode> objects = render("{watchNamespaces: [ml, research], metrics: {enabled: false}}");
    assertThat(objects.keySet()).noneMatch(k -> k.startsWith("ClusterRole"));
    assertThat(objects).containsKeys("Role/ml/tj-trainingjob-operator", "Role/research/tj-trainingjob-operator",
        "RoleBinding/ml/tj-trainingjob-operator", "Role/trainingjob-system/tj-trainingjob-operator-leader-election");
    assertThat(objects.keySet()).noneMatch(k -> k.startsWith("Service/"));
    assertThat(env(objects.get("Deployment/trainingjob-system/tj-trainingjob-operator"))).containsEntry("TRAININGJOB_NAMESPACES", "ml,research");
    // the namespaced Role grants the same on jobs as the ClusterRole
    assertThat(rules(objects.get("Role/ml/tj-trainingjob-operator"))).isEqualTo(rules(render("{}")
        .get("ClusterRole/tj-trainingjob-operator")));
  }

  @Test
  void theChartsAndDeploysRbacAndCrdAreTheSameAsCrds() throws Exception {
    for (String file : List.of("trainingjobs.trainingjob.dev-v1.yml", "trainingbudgets.trainingjob.dev-v1.yml")) {
      String crd = Files.readString(Path.of("crds", file));
      assertThat(Files.readString(CHART.resolve("crds").resolve(file)))
          .as("helm/trainingjob-operator/crds drifted from crds/: copy crds/" + file + " there").isEqualTo(crd);
      assertThat(Files.readString(Path.of("deploy/crd", file))).as("deploy/crd drifted from crds/: copy crds/" + file + " there")
          .isEqualTo(crd);
      assertThat(YAML.readTree(Path.of("deploy/kustomization.yaml").toFile()).get("resources").toString()).contains("crd/" + file);
    }
    JsonNode chartRole = render("{}").get("ClusterRole/tj-trainingjob-operator");
    // budgets are read, and only their status (the ledger) is written
    assertThat(rules(chartRole)).contains("trainingjob.dev/trainingbudgets get,list,watch",
        "trainingjob.dev/trainingbudgets/status patch,update").noneMatch(r -> r.matches("trainingjob.dev/trainingbudgets .*(update|patch).*"));
    JsonNode deployRole = objects(Path.of("deploy/clusterrole.yaml")).get("ClusterRole/trainingjob-operator");
    assertThat(rules(deployRole)).isEqualTo(rules(chartRole));
    JsonNode singleNs = objects(Path.of("deploy/single-namespace/role.yaml")).get("Role/ml/trainingjob-operator");
    assertThat(rules(singleNs)).isEqualTo(rules(chartRole));
    JsonNode deployLeases = objects(Path.of("deploy/leader-election-role.yaml")).get("Role/trainingjob-system/trainingjob-operator-leader-election");
    assertThat(rules(deployLeases)).isEqualTo(rules(render("{}").get("Role/trainingjob-system/tj-trainingjob-operator-leader-election")));
    // and the raw manifests name what the chart's defaults do
    assertThat(objects(Path.of("deploy/deployment.yaml")).get("Deployment/trainingjob-system/trainingjob-operator")
        .at("/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
  }

  /** Leader election's Lease is the operator's own: a Role in its namespace, in every layout, never a cluster-wide grant. */
  @Test
  void leasesAreGrantedInTheOperatorsOwnNamespaceOnly() throws Exception {
    for (String values : List.of("{}", "{watchNamespaces: [ml, research]}")) {
      Map<String, JsonNode> objects = render(values);
      objects.forEach((key, object) -> {
        if (key.startsWith("ClusterRole/") || key.startsWith("Role/") && !key.equals("Role/trainingjob-system/tj-trainingjob-operator-leader-election")) {
          assertThat(rules(object)).as(values + ": " + key).noneMatch(r -> r.startsWith("coordination.k8s.io/"));
        }
      });
      assertThat(rules(objects.get("Role/trainingjob-system/tj-trainingjob-operator-leader-election")))
          .as(values).containsExactly("coordination.k8s.io/leases create,get,update");
      JsonNode binding = objects.get("RoleBinding/trainingjob-system/tj-trainingjob-operator-leader-election");
      assertThat(binding.at("/subjects/0/name").asText()).isEqualTo("tj-trainingjob-operator");
      assertThat(binding.at("/roleRef/kind").asText()).isEqualTo("Role");
    }
    // without an election there is no Lease to grant
    assertThat(render("{leaderElection: {enabled: false}}").keySet()).noneMatch(k -> k.contains("leader-election"));

    // the plain manifests: the ClusterRole grants no Lease; the kustomization brings the Role in trainingjob-system
    assertThat(rules(objects(Path.of("deploy/clusterrole.yaml")).get("ClusterRole/trainingjob-operator")))
        .noneMatch(r -> r.startsWith("coordination.k8s.io/"));
    assertThat(YAML.readTree(Path.of("deploy/kustomization.yaml").toFile()).get("resources").toString()).contains("leader-election-role.yaml");
    Map<String, JsonNode> deployLeases = objects(Path.of("deploy/leader-election-role.yaml"));
    assertThat(rules(deployLeases.get("Role/trainingjob-system/trainingjob-operator-leader-election")))
        .containsExactly("coordination.k8s.io/leases create,get,update");
    assertThat(deployLeases.get("RoleBinding/trainingjob-system/trainingjob-operator-leader-election").at("/subjects/0/name").asText())
        .isEqualTo("trainingjob-operator");
  }

  @Test
  void theEc2ProviderNeedsAnOperatorIdOfThisInstallsOwn() {
    assertThatThrownBy(() -> render("{aws: {region: eu-west-1}}")).hasMessageContaining("operatorId is required");
    assertThatThrownBy(() -> render("{defaultProvider: ec2}")).hasMessageContaining("operatorId is required");
    // a filter pattern would see other installs' instances; the former default is every old install's
    assertThatThrownBy(() -> render("{operatorId: \"team-*\"}")).hasMessageContaining("operatorId");
    assertThatThrownBy(() -> render("{operatorId: trainingjob-operator}")).hasMessageContaining("operatorId");
  }

  @Test
  void theLocalProviderCannotBeTurnedOnInACluster() {
    // it would run job code in the operator's pod, beside its service-account token
    assertThatThrownBy(() -> render("{defaultProvider: local}")).hasMessageContaining("defaultProvider");
    assertThatThrownBy(() -> render("{extraEnv: {TRAININGJOB_ENABLE_LOCAL_PROVIDER: \"true\"}}"))
        .hasMessageContaining("TRAININGJOB_ENABLE_LOCAL_PROVIDER");
  }

  @Test
  void valuesThatCannotWorkAreRefusedByTheChartsSchema() {
    assertThatThrownBy(() -> render("{defaultProvider: gcp}")).hasMessageContaining("defaultProvider");
    assertThatThrownBy(() -> render("{ec2: {sshCidrs: [my-laptop]}}")).hasMessageContaining("sshCidrs");
    assertThatThrownBy(() -> render("{ec2: {heartbeatTimeout: half an hour}}")).hasMessageContaining("heartbeatTimeout");
    assertThatThrownBy(() -> render("{ec2: {apiLimits: \"RunInstances=fast\"}}")).hasMessageContaining("apiLimits");
    assertThatThrownBy(() -> render("{ec2: {apiShare: 2}}")).hasMessageContaining("apiShare");
    assertThatThrownBy(() -> render("{extraEnv: {JAVA_OPTS: -Xmx1g}}")).hasMessageContaining("JAVA_OPTS").hasMessageContaining("TRAININGJOB_");
  }

  @Test
  void namespaceAllowancesReachTheOperatorAsJsonItReadsAndTyposAreRefused() throws Exception {
    JsonNode deployment = render("""
        ec2:
          namespaceAllowances:
            team-a: {instanceProfile: tj-team-a, subnets: [subnet-0abc], s3Prefix: "s3://ml/team-a/"}
            "*": {subnets: []}
        """).get("Deployment/trainingjob-system/tj-trainingjob-operator");
    var allowances = dev.trainingjob.operator.provider.ec2.NamespaceAllowance.parse(
        env(deployment).get("TRAININGJOB_EC2_NAMESPACE_ALLOWANCES"));
    assertThat(allowances).containsEntry("team-a",
        new dev.trainingjob.operator.provider.ec2.NamespaceAllowance("tj-team-a", List.of("subnet-0abc"), "s3://ml/team-a/"))
        .containsEntry("*", new dev.trainingjob.operator.provider.ec2.NamespaceAllowance(null, List.of(), null));
    assertThat(env(render("{}").get("Deployment/trainingjob-system/tj-trainingjob-operator")))
        .doesNotContainKey("TRAININGJOB_EC2_NAMESPACE_ALLOWANCES");
    assertThatThrownBy(() -> render("{ec2: {namespaceAllowances: {team-a: {subnet: subnet-0abc}}}}")).hasMessageContaining("subnet");
    assertThatThrownBy(() -> render("{ec2: {namespaceAllowances: {team-a: {s3Prefix: ml/team-a}}}}")).hasMessageContaining("s3Prefix");
  }

  /** Collected outputs (host jobs, ec2 without an S3 URI) outlive the pod, and who may fetch them is a Role to bind. */
  @Test
  void collectedOutputsLiveOnAVolumeThatOutlivesThePod() throws Exception {
    Map<String, JsonNode> objects = render("{}");
    JsonNode claim = objects.get("PersistentVolumeClaim/trainingjob-system/tj-trainingjob-operator-outputs");
    assertThat(claim.at("/spec/resources/requests/storage").asText()).isEqualTo("20Gi");
    assertThat(claim.at("/spec/accessModes").toString()).isEqualTo("[\"ReadWriteOnce\"]");
    assertThat(claim.at("/spec/storageClassName").isMissingNode()).as("the cluster's default class").isTrue();
    assertThat(claim.at("/metadata/annotations").get("helm.sh/resource-policy").asText()).as("kept by helm uninstall").isEqualTo("keep");
    JsonNode deployment = objects.get("Deployment/trainingjob-system/tj-trainingjob-operator");
    assertThat(env(deployment)).containsEntry("TRAININGJOB_COLLECT_DIR", "/work/outputs");
    assertThat(mountedAt(deployment, "/work/outputs").at("/persistentVolumeClaim/claimName").asText()).isEqualTo("tj-trainingjob-operator-outputs");
    // a ReadWriteOnce volume attaches to one node: both replicas there, and no rolling update waiting on it elsewhere
    assertThat(deployment.at("/spec/strategy/type").asText()).isEqualTo("Recreate");
    JsonNode together = deployment.at("/spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/0");
    assertThat(together.at("/topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
    assertThat(together.at("/labelSelector/matchLabels").get("trainingjob.dev/operator").asText()).isEqualTo("tj-trainingjob-operator");

    Map<String, JsonNode> shared = render("{outputs: {persistence: {existingClaim: team-efs, accessMode: ReadWriteMany}}}");
    assertThat(shared.keySet()).noneMatch(k -> k.startsWith("PersistentVolumeClaim/"));
    JsonNode onEfs = shared.get("Deployment/trainingjob-system/tj-trainingjob-operator");
    assertThat(mountedAt(onEfs, "/work/outputs").at("/persistentVolumeClaim/claimName").asText()).isEqualTo("team-efs");
    assertThat(onEfs.at("/spec/strategy/type").isMissingNode()).as("rolling updates again").isTrue();
    assertThat(onEfs.at("/spec/template/spec/affinity").isMissingNode()).isTrue();
    assertThat(render("{outputs: {persistence: {storageClass: gp3, size: 100Gi}}}").get("PersistentVolumeClaim/trainingjob-system/tj-trainingjob-operator-outputs")
        .at("/spec/storageClassName").asText()).isEqualTo("gp3");

    Map<String, JsonNode> ephemeral = render("{outputs: {persistence: {enabled: false}}}");
    assertThat(ephemeral.keySet()).noneMatch(k -> k.startsWith("PersistentVolumeClaim/"));
    JsonNode lost = ephemeral.get("Deployment/trainingjob-system/tj-trainingjob-operator");
    assertThat(mountedAt(lost, "/work/outputs").has("emptyDir")).isTrue();
    assertThat(lost.at("/spec/strategy/type").isMissingNode()).isTrue();
    // each replica would have its own emptyDir, and a download would reach either: one replica only
    assertThat(lost.at("/spec/replicas").asInt()).isEqualTo(1);
    assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(2);
    // a large volume's group is not set file by file at every start
    assertThat(deployment.at("/spec/template/spec/securityContext/fsGroupChangePolicy").asText()).isEqualTo("OnRootMismatch");
    // one node mounts a ReadWriteOncePod volume for one pod only: two replicas could not both start
    assertThatThrownBy(() -> render("{outputs: {persistence: {accessMode: ReadWriteOncePod}}}")).hasMessageContaining("accessMode");

    // the plain manifests: the same claim, mount and strategy
    JsonNode plain = objects(Path.of("deploy/deployment.yaml")).get("Deployment/trainingjob-system/trainingjob-operator");
    assertThat(mountedAt(plain, "/work/outputs").at("/persistentVolumeClaim/claimName").asText()).isEqualTo("trainingjob-operator-outputs");
    assertThat(plain.at("/spec/strategy/type").asText()).isEqualTo("Recreate");
    assertThat(plain.at("/spec/template/spec/securityContext/fsGroupChangePolicy").asText()).isEqualTo("OnRootMismatch");
    assertThat(objects(Path.of("deploy/outputs-pvc.yaml")).get("PersistentVolumeClaim/trainingjob-system/trainingjob-operator-outputs")
        .at("/spec/resources/requests/storage").asText()).isEqualTo("20Gi");
  }

  /** A user's affinity keeps what it says, and the replicas still share the ReadWriteOnce volume's node. */
  @Test
  void aUsersAffinityIsMergedWithTheOneNodeTheOutputsVolumeNeeds() throws Exception {
    JsonNode affinity = render("""
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms: [{matchExpressions: [{key: pool, operator: In, values: [system]}]}]
          podAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              - {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: cache}}}
        """).get("Deployment/trainingjob-system/tj-trainingjob-operator").at("/spec/template/spec/affinity");
    assertThat(affinity.at("/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/0/key")
        .asText()).isEqualTo("pool");
    JsonNode required = affinity.at("/podAffinity/requiredDuringSchedulingIgnoredDuringExecution");
    assertThat(required).hasSize(2);
    assertThat(required.get(0).at("/labelSelector/matchLabels/app").asText()).isEqualTo("cache");
    assertThat(required.get(1).at("/topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
    assertThat(required.get(1).at("/labelSelector/matchLabels").get("trainingjob.dev/operator").asText()).isEqualTo("tj-trainingjob-operator");
  }

  /** A ServiceAccount subject without a namespace binds nothing the user meant: the schema says so at install. */
  @Test
  void anOutputsReaderServiceAccountNeedsItsNamespace() throws Exception {
    assertThatThrownBy(() -> render("{outputs: {readers: [{kind: ServiceAccount, name: notebook}]}}")).hasMessageContaining("namespace");
    assertThat(render("{outputs: {readers: [{kind: ServiceAccount, name: notebook, namespace: ml}]}}")
        .get("RoleBinding/trainingjob-system/tj-trainingjob-operator-outputs-reader").at("/subjects/0/namespace").asText()).isEqualTo("ml");
  }

  /** `kubectl trainingjob outputs` needs get on services/proxy for the operator's Service, by the name the plugin proxies to. */
  @Test
  void theOutputsReaderRoleGrantsTheServiceProxyOfTheOperatorsServiceOnlyAndIsBoundOnRequest() throws Exception {
    Map<String, JsonNode> objects = render("{}");
    JsonNode role = objects.get("Role/trainingjob-system/tj-trainingjob-operator-outputs-reader");
    assertThat(rules(role)).containsExactly("/secrets get", "/services/proxy get");
    assertThat(role.at("/rules/0/resourceNames").toString()).contains("\"tj-trainingjob-operator-metrics:metrics\"");
    // the one Secret that holds the outputs token, by the name the plugin derives from the Service's
    var chartService = new dev.trainingjob.operator.outputs.OperatorService("trainingjob-system", "tj-trainingjob-operator-metrics", "metrics");
    assertThat(role.at("/rules/1/resourceNames").toString()).isEqualTo("[\"" + chartService.tokenSecret() + "\"]");
    assertThat(chartService.readerRole()).isEqualTo("tj-trainingjob-operator-outputs-reader");
    assertThat(objects.get("Service/trainingjob-system/tj-trainingjob-operator-metrics").at("/spec/ports/0/name").asText()).isEqualTo("metrics");
    assertThat(objects.keySet()).noneMatch(k -> k.startsWith("RoleBinding/") && k.endsWith("-outputs-reader"));

    JsonNode binding = render("{outputs: {readers: [{kind: Group, name: ml-engineers, apiGroup: rbac.authorization.k8s.io}]}}")
        .get("RoleBinding/trainingjob-system/tj-trainingjob-operator-outputs-reader");
    assertThat(binding.at("/roleRef/name").asText()).isEqualTo("tj-trainingjob-operator-outputs-reader");
    assertThat(binding.at("/subjects/0/name").asText()).isEqualTo("ml-engineers");

    // the plugin's default Service is the one a release named trainingjob-operator makes, and deploy/ names the same
    var service = dev.trainingjob.operator.outputs.OperatorService.DEFAULT;
    assertThat(objects(Path.of("deploy/service.yaml")).get("Service/" + service.namespace() + "/" + service.name())
        .at("/spec/ports/0/name").asText()).isEqualTo(service.portName());
    JsonNode plainRole = objects(Path.of("deploy/outputs-reader-role.yaml")).get("Role/trainingjob-system/trainingjob-operator-outputs-reader");
    assertThat(rules(plainRole)).isEqualTo(rules(role));
    assertThat(plainRole.at("/rules/0/resourceNames").toString()).contains("\"" + service.name() + ":" + service.portName() + "\"");
    assertThat(plainRole.at("/rules/1/resourceNames").toString()).isEqualTo("[\"" + service.tokenSecret() + "\"]");
  }

  /**
   * The operator serves outputs only to holders of a token: the chart makes it random, keeps it in a Secret mounted as a
   * file (never a value in the pod spec), and deploy/ mounts the Secret a person creates, optionally.
   */
  @Test
  void theOutputsTokenIsARandomSecretMountedAsAFileNeverAValue() throws Exception {
    Map<String, JsonNode> objects = render("{}");
    JsonNode secret = objects.get("Secret/trainingjob-system/tj-trainingjob-operator-outputs-token");
    String token = new String(java.util.Base64.getDecoder().decode(secret.at("/data/token").asText()));
    assertThat(token).hasSize(48).matches("[A-Za-z0-9]+");
    assertThat(render("{}").get("Secret/trainingjob-system/tj-trainingjob-operator-outputs-token").at("/data/token").asText())
        .as("random per install").isNotEqualTo(secret.at("/data/token").asText());
    // an upgrade keeps the token of the Secret already installed: helm template has no cluster to look it up in, so
    // that is read from the template
    assertThat(Files.readString(CHART.resolve("templates/outputs-token.yaml")))
        .contains("lookup \"v1\" \"Secret\" .Release.Namespace $name").contains("index $existing.data \"token\"");
    JsonNode deployment = objects.get("Deployment/trainingjob-system/tj-trainingjob-operator");
    assertThat(env(deployment)).containsEntry("TRAININGJOB_OUTPUTS_TOKEN_FILE", "/etc/trainingjob/outputs-token/token");
    assertThat(mountedAt(deployment, "/etc/trainingjob/outputs-token").at("/secret/secretName").asText())
        .isEqualTo("tj-trainingjob-operator-outputs-token");
    assertThat(deployment.toString()).doesNotContain(token);

    JsonNode plain = objects(Path.of("deploy/deployment.yaml")).get("Deployment/trainingjob-system/trainingjob-operator");
    assertThat(env(plain)).containsEntry("TRAININGJOB_OUTPUTS_TOKEN_FILE", "/etc/trainingjob/outputs-token/token");
    JsonNode plainSecret = mountedAt(plain, "/etc/trainingjob/outputs-token").get("secret");
    assertThat(plainSecret.get("secretName").asText()).isEqualTo(dev.trainingjob.operator.outputs.OperatorService.DEFAULT.tokenSecret());
    assertThat(plainSecret.get("optional").asBoolean()).as("the operator starts before a person creates it").isTrue();
    assertThat(Files.readString(Path.of("deploy/outputs-reader-role.yaml")))
        .contains("kubectl create secret generic trainingjob-operator-outputs-token -n trainingjob-system");
  }

  /**
   * N shards are N Deployments: distinct names, selectors that never match another's pods, their own --shard, and so their
   * own Lease and id on AWS; one service account and RBAC, one outputs volume (on one node), one token, one Service for all.
   */
  @Test
  void eachShardIsADeploymentOfItsOwnThatSharesRbacTheOutputsAndTheService() throws Exception {
    Map<String, JsonNode> objects = render("{operatorId: ml-prod, shards: [gpu, research]}");
    List<JsonNode> deployments = objects.entrySet().stream().filter(e -> e.getKey().startsWith("Deployment/"))
        .map(Map.Entry::getValue).toList();
    assertThat(deployments).extracting(d -> d.at("/metadata/name").asText())
        .containsExactly("tj-trainingjob-operator", "tj-trainingjob-operator-gpu", "tj-trainingjob-operator-research");

    List<String> shards = new ArrayList<>();
    List<String> leases = new ArrayList<>();
    List<String> installIds = new ArrayList<>();
    for (JsonNode d : deployments) {
      Map<String, String> env = env(d);
      var config = dev.trainingjob.operator.config.OperatorConfig.defaults().with(c -> {
        c.operatorId = env.get("TRAININGJOB_OPERATOR_ID");
        c.shard = env.get("TRAININGJOB_SHARD");
      });
      shards.add(config.shardName());
      leases.add(config.leaseName());
      installIds.add(config.installId());
      assertThat(d.at("/metadata/labels/trainingjob.dev~1operator-shard").asText()).isEqualTo(config.shardName());
      assertThat(d.at("/spec/template/spec/serviceAccountName").asText()).isEqualTo("tj-trainingjob-operator");
      assertThat(mountedAt(d, "/work/outputs").at("/persistentVolumeClaim/claimName").asText()).isEqualTo("tj-trainingjob-operator-outputs");
      assertThat(mountedAt(d, "/etc/trainingjob/outputs-token").at("/secret/secretName").asText()).isEqualTo("tj-trainingjob-operator-outputs-token");
      assertThat(d.at("/spec/replicas").asInt()).isEqualTo(2);
      JsonNode pods = d.at("/spec/template/metadata/labels");
      // the Service and the outputs volume's node take every shard's pods
      assertThat(matches(objects.get("Service/trainingjob-system/tj-trainingjob-operator-metrics").at("/spec/selector"), pods)).isTrue();
      assertThat(matches(d.at("/spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/0/labelSelector/matchLabels"), pods)).isTrue();
      for (JsonNode other : deployments) {
        assertThat(matches(other.at("/spec/selector/matchLabels"), pods)).as(other.at("/metadata/name") + " selects the pods of " + d.at("/metadata/name"))
            .isEqualTo(other == d);
      }
    }
    assertThat(shards).containsExactly("default", "gpu", "research");
    assertThat(leases).containsExactly("trainingjob-operator", "trainingjob-operator-gpu", "trainingjob-operator-research");
    assertThat(installIds).containsExactly("ml-prod", "ml-prod-gpu", "ml-prod-research");
    // the default shard is the Deployment, and the selector, of an install from before shards
    assertThat(deployments.get(0).at("/spec/selector/matchLabels")).isEqualTo(render("{}")
        .get("Deployment/trainingjob-system/tj-trainingjob-operator").at("/spec/selector/matchLabels"));
    assertThat(env(deployments.get(0))).doesNotContainKey("TRAININGJOB_SHARD");
    // shared: one service account, one set of roles, one claim, one token, one Service
    assertThat(objects.keySet().stream().filter(k -> !k.startsWith("Deployment/")))
        .containsExactlyInAnyOrderElementsOf(render("{operatorId: ml-prod}").keySet().stream().filter(k -> !k.startsWith("Deployment/")).toList());

    assertThatThrownBy(() -> render("{shards: [default]}")).hasMessageContaining("shards");
    assertThatThrownBy(() -> render("{shards: [GPU]}")).hasMessageContaining("shards");
    assertThatThrownBy(() -> render("{shards: [gpu, gpu]}")).hasMessageContaining("shards");
    // one value for every Deployment would make every shard the same one
    assertThatThrownBy(() -> render("{extraEnv: {TRAININGJOB_SHARD: gpu}}")).hasMessageContaining("TRAININGJOB_SHARD");
  }

  /** Whether a matchLabels selector selects pods with these labels. */
  private static boolean matches(JsonNode selector, JsonNode labels) {
    assertThat(selector.size()).as("a selector").isPositive();
    var it = selector.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (!labels.has(e.getKey()) || !labels.get(e.getKey()).asText().equals(e.getValue().asText())) {
        return false;
      }
    }
    return true;
  }

  private static JsonNode mountedAt(JsonNode deployment, String path) {
    String volume = null;
    for (JsonNode mount : deployment.at("/spec/template/spec/containers/0/volumeMounts")) {
      if (mount.get("mountPath").asText().equals(path)) {
        volume = mount.get("name").asText();
      }
    }
    assertThat(volume).as("a volume mounted at " + path).isNotNull();
    for (JsonNode v : deployment.at("/spec/template/spec/volumes")) {
      if (v.get("name").asText().equals(volume)) {
        return v;
      }
    }
    throw new AssertionError("no volume " + volume);
  }

  @Test
  void theKustomizationListsFilesThatExistAndParse() throws Exception {
    JsonNode kustomization = YAML.readTree(Path.of("deploy/kustomization.yaml").toFile());
    for (JsonNode resource : kustomization.get("resources")) {
      Path file = Path.of("deploy").resolve(resource.asText());
      assertThat(file).exists();
      assertThat(objects(file)).isNotEmpty();
    }
  }

  /** A Role's rules as "group/resource verb,verb" lines, sorted. */
  static List<String> rules(JsonNode role) {
    List<String> out = new ArrayList<>();
    role.get("rules").forEach(r -> r.get("apiGroups").forEach(g -> r.get("resources").forEach(res -> {
      List<String> verbs = new ArrayList<>();
      r.get("verbs").forEach(v -> verbs.add(v.asText()));
      verbs.sort(null);
      out.add(g.asText() + "/" + res.asText() + " " + String.join(",", verbs));
    })));
    out.sort(null);
    return out;
  }
}
