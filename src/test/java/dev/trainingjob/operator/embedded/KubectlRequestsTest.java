package dev.trainingjob.operator.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The embedded API answers the requests kubectl makes the way a real API server does: field selectors on any field, and
 * watches over plain HTTP (one JSON event a line) next to the WebSocket watches of Fabric8's clients.
 */
class KubectlRequestsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CONFIGMAPS = "/api/v1/namespaces/default/configmaps";
  private final EmbeddedKubernetes api = new EmbeddedKubernetes().start(0);
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void close() {
    api.close();
  }

  /**
   * A watch kubectl's way: its lines as they come; started once the head has come (the server sends it once the watch
   * is registered), ended once the server has ended the stream.
   */
  private record Stream(List<JsonNode> events, CompletableFuture<?> started, CompletableFuture<Void> ended) {
    List<String> seen() {
      return events.stream().map(e -> e.path("type").asText() + " " + e.path("object").path("metadata").path("name").asText()).toList();
    }
  }

  private Stream watch(String pathAndQuery, String accept) {
    List<JsonNode> events = new CopyOnWriteArrayList<>();
    HttpRequest request = HttpRequest.newBuilder(URI.create(api.url() + pathAndQuery)).header("Accept", accept)
        .header("User-Agent", "kubectl/v1.31.9").build();
    var started = http.sendAsync(request, HttpResponse.BodyHandlers.ofLines());
    var ended = started.thenAcceptAsync(response -> {
      assertThat(response.statusCode()).isEqualTo(200);
      response.body().forEach(line -> {
        try {
          events.add(JSON.readTree(line));
        } catch (IOException e) {
          throw new IllegalStateException(line, e);
        }
      });
    });
    return new Stream(events, started, ended);
  }

  private JsonNode get(String pathAndQuery) throws Exception {
    var response = http.send(HttpRequest.newBuilder(URI.create(api.url() + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  private static String selector(String fieldSelector) {
    return "fieldSelector=" + URLEncoder.encode(fieldSelector, StandardCharsets.UTF_8);
  }

  private ConfigMap configMap(String name, String value) {
    return api.client().configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName(name)
        .endMetadata().addToData("value", value).build()).createOr(io.fabric8.kubernetes.client.dsl.NonDeletingOperation::update);
  }

  private void event(String name, String involved, String type) {
    api.client().v1().events().inNamespace("default").resource(new EventBuilder().withNewMetadata().withName(name).endMetadata()
        .withNewInvolvedObject().withKind("TrainingJob").withName(involved).withNamespace("default").endInvolvedObject()
        .withType(type).withReason("Started").build()).create();
  }

  @Test
  void eventsAreSelectedByTheirInvolvedObjectAsKubectlDescribeAsks() throws Exception {
    event("a.1", "a", "Normal");
    event("a.2", "a", "Warning");
    event("b.1", "b", "Normal");

    JsonNode described = get("/api/v1/namespaces/default/events?limit=500&"
        + selector("involvedObject.name=a,involvedObject.namespace=default,involvedObject.kind=TrainingJob"));
    assertThat(described.path("kind").asText()).isEqualTo("EventList");
    assertThat(names(described)).containsExactlyInAnyOrder("a.1", "a.2");
    assertThat(names(get("/api/v1/namespaces/default/events?" + selector("involvedObject.name==a,type!=Normal")))).containsExactly("a.2");
    assertThat(names(get("/api/v1/namespaces/default/events?" + selector("involvedObject.fieldPath=")))).hasSize(3);
    assertThat(names(get("/api/v1/namespaces/default/events?" + selector("involvedObject.name=c")))).isEmpty();
    assertThat(http.send(HttpRequest.newBuilder(URI.create(api.url() + "/api/v1/namespaces/default/events?" + selector("nonsense")))
        .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
  }

  private static List<String> names(JsonNode list) {
    List<String> names = new java.util.ArrayList<>();
    list.path("items").forEach(item -> names.add(item.path("metadata").path("name").asText()));
    return names;
  }

  @Test
  void aPlainWatchStreamsOnlyWhatChangesAfterTheListItStartsFrom() throws Exception {
    configMap("listed", "1");
    String version = get(CONFIGMAPS).path("metadata").path("resourceVersion").asText();

    Stream stream = watch(CONFIGMAPS + "?allowWatchBookmarks=true&watch=true&resourceVersion=" + version, "application/json");
    await().atMost(WAIT).until(stream.started()::isDone);
    configMap("added", "1");
    configMap("listed", "2");
    api.client().configMaps().inNamespace("default").withName("added").delete();

    await().atMost(WAIT).until(() -> stream.seen().size() >= 3);
    assertThat(stream.seen()).containsExactly("ADDED added", "MODIFIED listed", "DELETED added");
    assertThat(stream.events().get(1).path("object").path("data").path("value").asText()).isEqualTo("2");
  }

  /** kubectl delete lists, then watches from the list's version: a deletion in between still reaches the watch. */
  @Test
  void aDeletionBetweenTheListAndTheWatchReachesTheWatch() throws Exception {
    configMap("early", "1");
    configMap("doomed", "1");
    api.client().configMaps().inNamespace("default").withName("early").delete(); // known to the list below: not told again
    String version = get(CONFIGMAPS).path("metadata").path("resourceVersion").asText();
    api.client().configMaps().inNamespace("default").withName("doomed").delete();

    Stream stream = watch(CONFIGMAPS + "?watch=true&" + selector("metadata.name=doomed") + "&resourceVersion=" + version,
        "application/json");
    await().atMost(WAIT).until(() -> stream.seen().size() >= 1);
    assertThat(stream.seen()).containsExactly("DELETED doomed");
    assertThat(Long.parseLong(stream.events().get(0).path("object").path("metadata").path("resourceVersion").asText()))
        .as("a deletion's own version, after the list's").isGreaterThan(Long.parseLong(version));

    Stream everything = watch(CONFIGMAPS + "?watch=true&resourceVersion=" + version, "application/json");
    await().atMost(WAIT).until(everything.started()::isDone);
    configMap("later", "1");
    await().atMost(WAIT).until(() -> everything.seen().contains("ADDED later"));
    assertThat(everything.seen()).as("the earlier deletion, which the list knew of, is not told")
        .containsExactly("DELETED doomed", "ADDED later");
  }

  @Test
  void aWatchFromNoVersionStartsWithEveryObjectAndHonoursItsFieldSelector() {
    configMap("one", "1");
    configMap("two", "1");

    Stream stream = watch(CONFIGMAPS + "?watch=true&" + selector("metadata.name=two"), "application/json");
    await().atMost(WAIT).until(() -> stream.seen().size() >= 1);
    configMap("one", "2");
    configMap("two", "2");

    await().atMost(WAIT).until(() -> stream.seen().size() >= 2);
    assertThat(stream.seen()).containsExactly("ADDED two", "MODIFIED two");
  }

  /** What kubectl get -w asks for: each event's object a Table of one row, from the CRD's printer columns. */
  @Test
  void aWatchForTrainingJobsAsATableSendsOneRowAnEvent() throws Exception {
    Stream stream = watch("/apis/trainingjob.dev/v1alpha1/namespaces/default/trainingjobs?watch=true",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
    await().atMost(WAIT).until(stream.started()::isDone);
    var job = io.fabric8.kubernetes.client.utils.Serialization.unmarshal("""
        {"apiVersion":"trainingjob.dev/v1alpha1","kind":"TrainingJob","metadata":{"name":"tabled","namespace":"default"},
         "spec":{"script":{"entrypoint":"train.py","inline":{"train.py":"print(1)"}}}}""",
        dev.trainingjob.operator.api.TrainingJob.class);
    api.client().resource(job).create();

    await().atMost(WAIT).until(() -> !stream.events().isEmpty());
    JsonNode table = stream.events().get(0).path("object");
    assertThat(stream.events().get(0).path("type").asText()).isEqualTo("ADDED");
    assertThat(table.path("kind").asText()).isEqualTo("Table");
    assertThat(table.path("columnDefinitions").findValuesAsText("name")).startsWith("Name", "Phase");
    assertThat(table.path("rows")).hasSize(1);
    assertThat(table.path("rows").get(0).path("cells").get(0).asText()).isEqualTo("tabled");
  }

  @Test
  void aWatchEndsAfterTimeoutSecondsAndWhenTheApiCloses() {
    Stream timed = watch(CONFIGMAPS + "?watch=true&timeoutSeconds=1", "application/json");
    Stream open = watch(CONFIGMAPS + "?watch=true", "application/json");
    await().atMost(WAIT).until(() -> timed.started().isDone() && open.started().isDone());

    await().atMost(WAIT).until(() -> timed.ended().isDone());
    assertThat(timed.ended()).isCompleted();
    assertThat(open.ended()).isNotDone();

    api.close();
    await().atMost(WAIT).until(() -> open.ended().isDone());
  }

  /**
   * kubectl sends fieldValidation=Strict (the OpenAPI document says the server checks fields): a field the CRD does not
   * declare is refused, on create and on patch; with Warn it passes with a warning; a Fabric8 client, which sends no
   * fieldValidation, is not checked.
   */
  @Test
  void aWriteAskingForFieldValidationIsCheckedAgainstTheCrd() throws Exception {
    String jobs = "/apis/trainingjob.dev/v1alpha1/namespaces/default/trainingjobs";
    String misspelt = """
        {"apiVersion":"trainingjob.dev/v1alpha1","kind":"TrainingJob","metadata":{"name":"checked"},
         "spec":{"script":{"entrypoint":"train.py","inline":{"train.py":"print(1)"}},"env":[{"name":"A","vaule":"1"}]}}""";

    var refused = write("POST", jobs + "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", "application/json", misspelt);
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(refused.body()).path("message").asText())
        .isEqualTo("TrainingJob in version \"v1alpha1\" cannot be handled as a TrainingJob: strict decoding error: unknown field \"spec.env[0].vaule\"");

    var warned = write("POST", jobs + "?fieldValidation=Warn", "application/json", misspelt);
    assertThat(warned.statusCode()).isEqualTo(201);
    assertThat(warned.headers().allValues("Warning")).containsExactly("299 - \"unknown field \\\"spec.env[0].vaule\\\"\"");

    String patch = "{\"spec\":{\"limits\":{\"stallSecnds\":5}}}";
    assertThat(write("PATCH", jobs + "/checked?fieldValidation=Strict", "application/merge-patch+json", patch).statusCode()).isEqualTo(400);
    assertThat(write("PATCH", jobs + "/checked?fieldValidation=Strict", "application/merge-patch+json",
        "{\"spec\":{\"limits\":{\"stallSeconds\":5}}}").statusCode()).isBetween(200, 299);
    assertThat(write("PATCH", jobs + "/checked", "application/merge-patch+json", patch).statusCode()).isBetween(200, 299);
  }

  /** kubectl apply --dry-run=server: refused, since the store would write it; nothing is created (no job would start). */
  @Test
  void aServerSideDryRunIsRefusedAndWritesNothing() throws Exception {
    String jobs = "/apis/trainingjob.dev/v1alpha1/namespaces/default/trainingjobs";
    String job = """
        {"apiVersion":"trainingjob.dev/v1alpha1","kind":"TrainingJob","metadata":{"name":"trial"},
         "spec":{"script":{"entrypoint":"train.py","inline":{"train.py":"print(1)"}}}}""";
    var refused = write("POST", jobs + "?dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
        "application/json", job);
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(refused.body()).path("message").asText()).contains("does not support dry-run");
    assertThat(get(jobs).path("items")).isEmpty();
  }

  private HttpResponse<String> write(String method, String pathAndQuery, String type, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(api.url() + pathAndQuery)).header("Content-Type", type)
        .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The OpenAPI v3 document kubectl reads: the fieldValidation parameter on each kind's PATCH, and the CRD's schema. */
  @Test
  void theOpenApiDocumentOffersFieldValidationAndCarriesTheSchemas() throws Exception {
    JsonNode root = get("/openapi/v3");
    String document = root.path("paths").path("apis/trainingjob.dev/v1alpha1").path("serverRelativeURL").asText();
    assertThat(document).startsWith("/openapi/v3/apis/trainingjob.dev/v1alpha1?hash=");

    JsonNode doc = get(document);
    JsonNode patch = doc.path("paths").path("/apis/trainingjob.dev/v1alpha1/namespaces/{namespace}/trainingbudgets/{name}").path("patch");
    assertThat(patch.path("x-kubernetes-group-version-kind").path("kind").asText()).isEqualTo("TrainingBudget");
    assertThat(patch.path("parameters").findValuesAsText("name")).contains("fieldValidation");
    JsonNode job = doc.path("components").path("schemas").path("dev.trainingjob.v1alpha1.TrainingJob");
    assertThat(job.path("properties").path("spec").path("properties").has("limits")).isTrue();
    assertThat(http.send(HttpRequest.newBuilder(URI.create(api.url() + "/openapi/v2")).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode()).isEqualTo(404);
  }

  /** The operator's informers watch over a WebSocket: that goes on as before, beside a plain watch. */
  @Test
  void aFabric8WatchStillWorksBesideAPlainOne() {
    Stream plain = watch(CONFIGMAPS + "?watch=true", "application/json");
    List<String> fabric8 = new CopyOnWriteArrayList<>();
    try (var watch = api.client().configMaps().inNamespace("default").watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, ConfigMap resource) {
        fabric8.add(action + " " + resource.getMetadata().getName());
      }

      @Override
      public void onClose(WatcherException cause) {
      }
    })) {
      await().atMost(WAIT).until(plain.started()::isDone);
      configMap("both", "1");
      await().atMost(WAIT).until(() -> fabric8.contains("ADDED both") && plain.seen().contains("ADDED both"));
    }
  }
}
