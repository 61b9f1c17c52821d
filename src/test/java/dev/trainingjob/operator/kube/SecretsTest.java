package dev.trainingjob.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One value of a Secret, against the Fabric8 mock server in CRUD mode. */
class SecretsTest {
  private static EmbeddedKubernetes api;

  @BeforeAll
  static void start() {
    api = new EmbeddedKubernetes().start(0);
    api.client().secrets().inNamespace("team").resource(new SecretBuilder().withNewMetadata().withName("creds").endMetadata()
        .addToData("token", Base64.getEncoder().encodeToString("s3cr3t-välue\n".getBytes(StandardCharsets.UTF_8)))
        .addToStringData("plain", "written as text")
        .build()).create();
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  @Test
  void readsAValueFromDataOrStringData() {
    assertThat(Secrets.value(api.client(), "team", "creds", "token")).isEqualTo("s3cr3t-välue\n");
    assertThat(Secrets.value(api.client(), "team", "creds", "plain")).isEqualTo("written as text");
  }

  @Test
  void aMissingSecretIsToldApartFromAMissingKey() {
    assertThatThrownBy(() -> Secrets.value(api.client(), "team", "nope", "token"))
        .isInstanceOfSatisfying(Secrets.Unavailable.class, e -> assertThat(e.problem()).isEqualTo(Secrets.Problem.NO_SECRET))
        .hasMessage("Secret team/nope does not exist");
    assertThatThrownBy(() -> Secrets.value(api.client(), "other", "creds", "token"))
        .isInstanceOfSatisfying(Secrets.Unavailable.class, e -> assertThat(e.problem()).isEqualTo(Secrets.Problem.NO_SECRET));
  }

  @Test
  void aMissingKeyNamesTheKeyAndNoValue() {
    assertThatThrownBy(() -> Secrets.value(api.client(), "team", "creds", "password"))
        .isInstanceOfSatisfying(Secrets.Unavailable.class, e -> assertThat(e.problem()).isEqualTo(Secrets.Problem.NO_KEY))
        .hasMessage("Secret team/creds has no key password")
        .message().doesNotContain("s3cr3t");
  }

  @Test
  void aSecretTheClientMayNotReadSaysSo() {
    KubernetesMockServer server = new KubernetesMockServer(false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    try (var client = server.createClient()) {
      server.expect().get().withPath("/api/v1/namespaces/team/secrets/creds")
          .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden").withMessage("secrets \"creds\" is forbidden").build())
          .always();
      assertThatThrownBy(() -> Secrets.value(client, "team", "creds", "token"))
          .isInstanceOfSatisfying(Secrets.Unavailable.class, e -> assertThat(e.problem()).isEqualTo(Secrets.Problem.FORBIDDEN))
          .hasMessage("not allowed to read Secret team/creds");
    } finally {
      server.destroy();
    }
  }
}
