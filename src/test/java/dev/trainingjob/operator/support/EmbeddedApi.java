package dev.trainingjob.operator.support;

import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An embedded API server for one test class: started before its first test, closed after its last. Register it as a static
 * field: {@code @RegisterExtension static final EmbeddedApi API = new EmbeddedApi();}, then {@code API.client()}.
 */
public final class EmbeddedApi implements BeforeAllCallback, AfterAllCallback {
  private EmbeddedKubernetes api;

  @Override
  public void beforeAll(ExtensionContext context) {
    api = new EmbeddedKubernetes().start(0);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    api.close();
  }

  /** The server's client. */
  public KubernetesClient client() {
    return api.client();
  }
}
