package dev.trainingjob.operator.embedded;

import dev.trainingjob.operator.api.TrainingBudget;
import dev.trainingjob.operator.api.TrainingJob;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A Kubernetes API on 127.0.0.1 for the demo and the tests: the Fabric8 mock server's CRUD dispatcher
 * (status as a subresource for TrainingJobs and TrainingBudgets), plus what the real kubectl asks for beyond it: the
 * discovery documents, server-side tables and OpenAPI ({@link Discovery}), field selectors on any field ({@link Reads}),
 * watches over plain HTTP ({@link ApiHttpServer}), and the field validation the OpenAPI promises
 * ({@link FieldValidation}); and the service proxy for the Services it is told of. It keeps a log of requests so tests
 * can count writes.
 */
public final class EmbeddedKubernetes implements AutoCloseable {
  /** One request as the API saw it; userAgent tells one client's requests from another's. */
  public record Request(String method, String path, String userAgent) {}

  /** The mock server logs every request through java.util.logging; kept quiet (held so it is not collected). */
  private static final java.util.logging.Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
  private final WatchableCrud crud;
  private final Object writes = new Object();
  private final FieldValidation fieldValidation = new FieldValidation();
  private final ApiHttpServer server;
  private volatile int port;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final ServiceProxy proxy = new ServiceProxy();
  private volatile KubernetesClient client;

  public EmbeddedKubernetes() {
    RandomUids.startAtRandom();
    var trainingJobs = new CustomResourceDefinitionContext.Builder()
        .withGroup(TrainingJob.GROUP).withVersion(TrainingJob.VERSION).withPlural("trainingjobs")
        .withKind("TrainingJob").withScope("Namespaced").withStatusSubresource(true).build();
    var trainingBudgets = new CustomResourceDefinitionContext.Builder()
        .withGroup(TrainingJob.GROUP).withVersion(TrainingJob.VERSION).withPlural(TrainingBudget.PLURAL)
        .withKind("TrainingBudget").withScope("Namespaced").withStatusSubresource(true).build();
    crud = new WatchableCrud(List.of(trainingJobs, trainingBudgets));
    Discovery discovery = new Discovery();
    Reads reads = new Reads(crud, discovery);
    Dispatcher dispatcher = new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        requests.add(new Request(request.getMethod(), request.getPath(), request.getHeader("User-Agent")));
        MockResponse proxied = proxy.answer(request);
        if (proxied != null) {
          return proxied;
        }
        MockResponse answer = discovery.answer(request);
        if (answer != null) {
          return answer;
        }
        if ("GET".equals(request.getMethod())) {
          return reads.answer(request);
        }
        if (DRY_RUN.matcher(request.getPath()).find()) {
          // the mock server would write it: a "dry" create would launch a real job
          return ApiStatus.of(400, "BadRequest", "the embedded API does not support dry-run (it would write); "
              + "use --dry-run=client");
        }
        // writes one at a time, so that a status update's resourceVersion is checked against what it replaces
        synchronized (writes) {
          MockResponse conflict = staleStatusUpdate(request);
          return conflict != null ? conflict : fieldValidation.apply(request, () -> crud.dispatch(request));
        }
      }
    };
    server = new ApiHttpServer(dispatcher, reads::watchFilter);
  }

  /**
   * A PUT of a status whose resourceVersion is not the stored one: 409 Conflict, as a real API server answers (the mock server
   * checks the resourceVersion of a whole object's update, but takes any status update). Null when the update may go on.
   */
  private MockResponse staleStatusUpdate(RecordedRequest request) {
    String path = request.getPath().replaceFirst("\\?.*$", "");
    if (!"PUT".equals(request.getMethod()) || !path.endsWith("/status")) {
      return null;
    }
    try {
      // getBytes leaves the body for the mock server to read
      String sent = JSON.readTree(request.getBody().getBytes()).path("metadata").path("resourceVersion").asText("");
      var stored = crud.findResource(crud.getKey(path));
      if (sent.isEmpty() || stored == null) {
        return null; // no version to check (an update that means "whatever is there"), or a 404 the mock server answers
      }
      String current = JSON.readTree(stored.getValue()).path("metadata").path("resourceVersion").asText("");
      if (current.equals(sent)) {
        return null;
      }
      String name = path.replaceFirst("/status$", "").replaceFirst(".*/", "");
      return ApiStatus.of(409, "Conflict", "Operation cannot be fulfilled on " + name
          + ": the object has been modified; please apply your changes to the latest version and try again");
    } catch (java.io.IOException | RuntimeException unreadable) {
      return null; // the mock server answers what it cannot read
    }
  }

  /** A write asked as a server-side dry run (kubectl --dry-run=server sends dryRun=All). */
  private static final java.util.regex.Pattern DRY_RUN = java.util.regex.Pattern.compile("[?&]dryRun=");

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.WARNING);
    return logger;
  }

  /** Starts on 127.0.0.1; port 0 picks a free one. */
  public EmbeddedKubernetes start(int port) {
    this.port = server.start(InetAddress.getLoopbackAddress(), port);
    return this;
  }

  public synchronized KubernetesClient client() {
    if (client == null) {
      client = newClient();
    }
    return client;
  }

  /** A new client, for a second operator that must not share the first one's connections. */
  public KubernetesClient newClient() {
    return new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config().build()).build();
  }

  /** A new client whose requests carry {@code userAgent}: a test can then tell them from its own. */
  public KubernetesClient newClient(String userAgent) {
    return new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config().withUserAgent(userAgent).build()).build();
  }

  /** What the Fabric8 mock server gives its clients: this API, its default namespace "test", HTTP/1.1, a token. */
  private io.fabric8.kubernetes.client.ConfigBuilder config() {
    return new io.fabric8.kubernetes.client.ConfigBuilder(io.fabric8.kubernetes.client.Config.empty())
        .withMasterUrl(url() + "/").withTrustCerts(true).withNamespace("test").withHttp2Disable(true)
        .withUsername("fabric8-mock-server-user").withOauthToken("secret");
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** The kubeconfig cluster extension that names the demo's local work root. */
  public static final String LOCAL_WORK_ROOT_EXTENSION = "trainingjob.dev/demo";

  /** A YAML double-quoted string. */
  private static String quoted(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** Writes a kubeconfig that points kubectl at this API. */
  public Path writeKubeconfig(Path file) throws IOException {
    return writeKubeconfig(file, null);
  }

  /**
   * A kubeconfig for this API; with {@code localWorkRoot}, the cluster carries it as the extension
   * {@value #LOCAL_WORK_ROOT_EXTENSION}, where the kubectl plugin finds the demo's local provider (its key and known_hosts)
   * without a flag. kubectl keeps and ignores extensions it does not know.
   */
  public Path writeKubeconfig(Path file, Path localWorkRoot) throws IOException {
    String extension = localWorkRoot == null ? "" : """
            extensions:
            - name: %s
              extension:
                localWorkRoot: %s
        """.formatted(LOCAL_WORK_ROOT_EXTENSION, quoted(localWorkRoot.toAbsolutePath().normalize().toString()));
    String yaml = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: trainingjob-demo
          cluster:
            server: %s
        """.formatted(url()) + extension + """
        users:
        - name: demo
          user:
            token: demo
        contexts:
        - name: trainingjob-demo
          context:
            cluster: trainingjob-demo
            user: demo
            namespace: default
        current-context: trainingjob-demo
        """;
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    Files.writeString(file, yaml);
    return file;
  }

  /**
   * Creates the Service namespace/name with one port, and answers its service-proxy path by forwarding to
   * {@code target}: what a real cluster's Service and API server do for a pod behind it.
   */
  public void exposeService(String namespace, String name, String portName, int port, URI target) {
    client().services().inNamespace(namespace).resource(new ServiceBuilder().withNewMetadata().withName(name)
        .withNamespace(namespace).endMetadata().withNewSpec().addNewPort().withName(portName).withPort(port).endPort()
        .endSpec().build()).createOr(NonDeletingOperation::update);
    proxy.register(namespace, name, portName, target);
  }

  /** The requests seen so far that match. */
  public List<Request> requests(Predicate<Request> filter) {
    return requests.stream().filter(filter).toList();
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
    }
    server.close();
  }
}
