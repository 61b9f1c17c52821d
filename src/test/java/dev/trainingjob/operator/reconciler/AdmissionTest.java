package dev.trainingjob.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.ScriptSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.remote.JobBundle;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.OperatorHarness;
import dev.trainingjob.operator.support.RecordingProvider;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Nothing is launched before what the spec names exists; the job waits in Pending saying what for, and goes on once it does. */
class AdmissionTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private RecordingProvider provider;
  private ScriptedRemoteHosts remote;
  private OperatorHarness harness;

  @BeforeEach
  void start() {
    provider = new RecordingProvider("local");
    remote = new ScriptedRemoteHosts();
    harness = new OperatorHarness("local", List.of(provider), remote);
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private void awaitWaitingFor(String name, String what) {
    await().atMost(WAIT).until(() -> {
      TrainingJob j = harness.get(name);
      return j.getStatus() != null && j.getStatus().message != null && j.getStatus().message.contains(what);
    });
  }

  @Test
  void aSecretCreatedAfterTheJobIsWaitedForAndNothingIsLaunchedMeanwhile() {
    TrainingJob job = Jobs.simple("token-later");
    job.getSpec().env = List.of(Jobs.envFromSecret("HF_TOKEN", "hf", "token"));
    harness.create(job);

    awaitWaitingFor("token-later", "Secret default/hf does not exist (spec.env[0] HF_TOKEN)");
    TrainingJob waiting = harness.get("token-later");
    assertThat(waiting.getStatus().phase).isEqualTo(Phase.Pending);
    assertThat(Conditions.find(waiting.getStatus(), ConditionType.PROGRESSING).reason).isEqualTo("WaitingForReference");
    assertThat(provider.count("default/token-later", "ensure")).isZero();
    assertThat(harness.events("token-later")).extracting(Event::getReason).contains("WaitingForReference");

    // a Secret without the key is still not enough
    harness.client().secrets().inNamespace(OperatorHarness.NS).resource(new SecretBuilder().withNewMetadata().withName("hf")
        .endMetadata().addToStringData("other", "x").build()).create();
    awaitWaitingFor("token-later", "Secret default/hf has no key token");
    assertThat(provider.count("default/token-later", "ensure")).isZero();

    harness.client().secrets().inNamespace(OperatorHarness.NS).withName("hf").edit(s -> new SecretBuilder(s)
        .addToStringData("token", "hf_abcdefgh").build());
    await().atMost(WAIT).until(() -> harness.get("token-later").getStatus().phase == Phase.Succeeded);
  }

  @Test
  void gitCredentialsFromASecretAreWaitedForReachTheMachineAndNeverStatusOrEvents() {
    String token = "tok-9f8e7d6c5b4a3210";
    TrainingJob job = Jobs.simple("private-repo");
    job.getSpec().script.git = new ScriptSpec.GitSource();
    job.getSpec().script.git.url = "https://git.example.com/team/repo.git";
    job.getSpec().script.git.credentialsSecret = "repo-token";
    // the driver's detail quotes the token (as a clone's error might): status and Events must not
    remote.exitReason = ProbeResult.ExitReason.bootstrapFailed("git");
    remote.exitDetail = "cloning https://git.example.com/team/repo.git as ci-bot with " + token;
    remote.exitCode = 128;
    harness.create(job);

    awaitWaitingFor("private-repo", "Secret default/repo-token does not exist (spec.script.git.credentialsSecret)");
    assertThat(provider.count("default/private-repo", "ensure")).isZero();
    harness.client().secrets().inNamespace(OperatorHarness.NS).resource(new SecretBuilder().withNewMetadata().withName("repo-token")
        .endMetadata().addToStringData("username", "ci-bot").build()).create();
    awaitWaitingFor("private-repo", "Secret default/repo-token has no key token (spec.script.git.credentialsSecret)");
    assertThat(provider.count("default/private-repo", "ensure")).isZero();

    harness.client().secrets().inNamespace(OperatorHarness.NS).withName("repo-token").edit(s -> new SecretBuilder(s)
        .addToStringData("token", token).build());
    await().atMost(WAIT).until(() -> harness.get("private-repo").getStatus().phase == Phase.Failed);

    TrainingJob failed = harness.get("private-repo");
    var git = remote.uploaded(failed.getMetadata().getUid()).git();
    assertThat(git.url()).isEqualTo("https://git.example.com/team/repo.git");
    assertThat(git.credentials()).isEqualTo(JobBundle.GitCredentials.token("ci-bot", token));
    assertThat(failed.getStatus().message).contains("as ci-bot with ******");
    assertThat(failed.toString()).doesNotContain(token);
    assertThat(harness.events("private-repo")).extracting(Event::getMessage).noneMatch(m -> m.contains(token));
  }

  @Test
  void aDeployKeyIsWaitedForUnderItsOwnKey() {
    TrainingJob job = Jobs.simple("deploy-key");
    job.getSpec().script.git = new ScriptSpec.GitSource();
    job.getSpec().script.git.url = "git@git.example.com:team/repo.git";
    job.getSpec().script.git.credentialsSecret = "repo-key";
    harness.client().secrets().inNamespace(OperatorHarness.NS).resource(new SecretBuilder().withNewMetadata().withName("repo-key")
        .endMetadata().addToStringData("token", "a token is no key").build()).create();
    harness.create(job);

    awaitWaitingFor("deploy-key", "Secret default/repo-key has no key ssh-privatekey (spec.script.git.credentialsSecret)");
    assertThat(provider.count("default/deploy-key", "ensure")).isZero();
  }

  @Test
  void aMissingConfigMapIsWaitedForNamingTheField() {
    TrainingJob job = Jobs.simple("files-later");
    job.getSpec().script.inline = null;
    job.getSpec().script.configMap = "train-files";
    harness.create(job);

    awaitWaitingFor("files-later", "ConfigMap default/train-files (spec.script.configMap)");
    assertThat(provider.count("default/files-later", "ensure")).isZero();

    harness.client().configMaps().inNamespace(OperatorHarness.NS).resource(new ConfigMapBuilder().withNewMetadata()
        .withName("train-files").endMetadata().addToData("train.py", "print(1)\n").build()).create();
    await().atMost(WAIT).until(() -> harness.get("files-later").getStatus().phase == Phase.Succeeded);
  }
}
