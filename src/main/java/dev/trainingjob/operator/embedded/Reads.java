package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.QueryStringEncoder;
import java.util.function.UnaryOperator;

/** The embedded API's reads: the CRUD dispatcher's, with field selectors on any field and Tables where kubectl asks. */
final class Reads {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final WatchableCrud crud;
  private final Discovery discovery;

  Reads(WatchableCrud crud, Discovery discovery) {
    this.crud = crud;
    this.discovery = discovery;
  }

  /**
   * The answer to a GET. With a field selector, a list goes to the CRUD dispatcher without it (its own matching knows
   * only metadata.name and metadata.namespace, and finds nothing for other fields) and its items are filtered here; a
   * plain watch is opened the same way, its events filtered (and made Tables) by its {@link WatchFilter}. A Fabric8
   * client's WebSocket watch stays as the dispatcher serves it.
   */
  MockResponse answer(RecordedRequest request) {
    String path = request.getPath();
    boolean plainWatch = ApiHttpServer.isPlainWatch("GET", path, request.getHeader("Upgrade"));
    if (!plainWatch && "true".equals(ApiHttpServer.parameter(path, "watch"))) {
      return crud.dispatch(request);
    }
    String selector = ApiHttpServer.parameter(path, "fieldSelector");
    FieldSelector fields;
    try {
      fields = FieldSelector.parse(selector);
    } catch (IllegalArgumentException e) {
      return ApiStatus.of(400, "BadRequest", e.getMessage());
    }
    if (plainWatch) {
      return crud.plainWatch(withoutParameter(path, "fieldSelector"));
    }
    boolean named = crud.getKey(path.replaceFirst("\\?.*$", "")).containsKey(KubernetesAttributesExtractor.NAME);
    if (selector == null || named) {
      return discovery.asTableIfAsked(request, crud.dispatch(request));
    }
    return discovery.asTableIfAsked(request, filtered(crud.handleGet(withoutParameter(path, "fieldSelector")), fields));
  }

  private static String withoutParameter(String path, String name) {
    var decoder = new QueryStringDecoder(path);
    var encoder = new QueryStringEncoder(decoder.path());
    decoder.parameters().forEach((key, values) -> {
      if (!key.equals(name)) {
        values.forEach(value -> encoder.addParam(key, value));
      }
    });
    return encoder.toString();
  }

  /** A list answer with only the items the selector selects, under the list's own kind. */
  private static MockResponse filtered(MockResponse list, FieldSelector fields) {
    if (list.code() != 200) {
      return list;
    }
    try {
      var body = (ObjectNode) JSON.readTree(list.getBody().readUtf8());
      var items = JSON.createArrayNode();
      body.path("items").forEach(item -> {
        if (fields.matches(item)) {
          items.add(item);
        }
      });
      body.set("items", items);
      if (!items.isEmpty()) {
        // the mock server calls every list "List"; a typed client (kubectl describe's, for Events) wants EventList
        body.put("kind", items.get(0).path("kind").asText() + "List");
      }
      return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json").setBody(body.toString());
    } catch (java.io.IOException | ClassCastException unreadable) {
      return list;
    }
  }

  /** What a plain watch passes on of the dispatcher's events, and in what form (see {@link WatchFilter}). */
  UnaryOperator<ObjectNode> watchFilter(RecordedRequest request) {
    String path = request.getPath();
    String plural = discovery.tablePlural(request);
    return new WatchFilter(WatchFilter.since(ApiHttpServer.parameter(path, "resourceVersion")),
        FieldSelector.parse(ApiHttpServer.parameter(path, "fieldSelector")),
        plural == null ? UnaryOperator.identity() : object -> discovery.table(plural, object));
  }
}
