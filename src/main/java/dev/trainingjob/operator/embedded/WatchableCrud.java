package dev.trainingjob.operator.embedded;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * The mock server's CRUD dispatcher, which also tells the plain (kubectl) watches of each change it makes, as it tells
 * its own WebSocket watches. Its own watch listener sends each event from a thread of its own, which it stops when the
 * watch closes before it leaves the list of watches: a write in between is refused. Short-lived watches such as
 * {@code kubectl delete}'s would make that likely; these watches are told on the writing thread and leave at once.
 */
final class WatchableCrud extends KubernetesCrudDispatcher {
  private final Set<PlainWatch> watches = new CopyOnWriteArraySet<>();

  /** The event type a deletion replayed to a new watch carries, until its WatchFilter decides whether the watcher needs it. */
  static final String RECENTLY_DELETED = "RECENTLY_DELETED";
  private static final int KEPT_DELETIONS = 1000;
  private final java.util.ArrayDeque<Map.Entry<AttributeSet, String>> deletions = new java.util.ArrayDeque<>();
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private static String withVersion(String object, long version) {
    try {
      var node = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(object);
      node.with("metadata").put("resourceVersion", String.valueOf(version));
      return node.toString();
    } catch (java.io.IOException | RuntimeException unreadable) {
      return object;
    }
  }

  WatchableCrud(List<CustomResourceDefinitionContext> crds) {
    super(crds);
    this.store = installNamedStore();
  }

  /**
   * Puts a {@link NamedStore} where the mock server keeps its objects. Its store is a final field with no way to supply
   * another, so it is set once here, before the server has stored or served anything; if that is refused, lookups scan.
   */
  private NamedStore installNamedStore() {
    NamedStore named = new NamedStore();
    try {
      java.lang.reflect.Field field = io.fabric8.mockwebserver.crud.CrudDispatcher.class.getDeclaredField("map");
      field.setAccessible(true);
      field.set(this, java.util.Collections.synchronizedMap(named));
      return named;
    } catch (ReflectiveOperationException | RuntimeException refused) {
      org.slf4j.LoggerFactory.getLogger(WatchableCrud.class).warn("the embedded API looks objects up by scanning: {}", refused.toString());
      return null;
    }
  }

  /** The store with its index by name; null when it could not be installed (then every lookup scans, as before). */
  private final NamedStore store;

  /**
   * Finds a named object among the keys of that name only (see {@link NamedStore}); the same answer as the mock server's
   * scan, which takes the first stored key that matches, in the store's order.
   */
  @Override
  public Map.Entry<AttributeSet, String> findResource(AttributeSet query) {
    var name = NamedStore.nameOf(query);
    if (store == null || name == null) {
      return super.findResource(query);
    }
    synchronized (map) { // the mock server's store is a synchronized map: its own lock
      for (AttributeSet key : store.named(name)) {
        if (key.matches(query)) {
          return Map.entry(key, store.get(key));
        }
      }
      return null;
    }
  }

  /**
   * A plain watch of what {@code path} selects (a list path, with a label selector if any): once opened, every matching
   * object as ADDED, then each change, as JSON watch events.
   */
  MockResponse plainWatch(String path) {
    return new MockResponse().withWebSocketUpgrade(new PlainWatch(getKey(path)));
  }

  /** Called by the dispatcher for each change, under its write lock, so in the order the changes are made. */
  @Override
  public void processEvent(String path, AttributeSet pathAttributes, AttributeSet oldAttributes,
      GenericKubernetesResource resource, String newState) {
    String existing = oldAttributes == null ? null : map.get(oldAttributes);
    super.processEvent(path, pathAttributes, oldAttributes, resource, newState);
    if (Objects.equals(existing, newState)) {
      return;
    }
    if (newState == null && existing != null) {
      // a deletion is a change of its own, with a version of its own (as an API server gives it); kept a while, so a watch
      // opened just after a list still hears of a deletion that fell between the two
      existing = withVersion(existing, requestResourceVersion());
      synchronized (deletions) {
        deletions.addLast(Map.entry(oldAttributes, existing));
        if (deletions.size() > KEPT_DELETIONS) {
          deletions.removeFirst();
        }
      }
    }
    // the attributes the dispatcher has just filed the new state under, worked out as it does
    AttributeSet newAttributes = null;
    if (newState != null) {
      newAttributes = resource != null ? ((KubernetesAttributesExtractor) attributeExtractor).extract(resource)
          : attributeExtractor.fromResource(newState);
      if (!newAttributes.containsKey(KubernetesAttributesExtractor.PLURAL)) {
        newAttributes = AttributeSet.merge(pathAttributes, newAttributes);
      }
    }
    synchronized (watches) {
      for (PlainWatch watch : watches) {
        watch.changed(oldAttributes, existing, newAttributes, newState);
      }
    }
  }

  /** One plain watch: its query, and the stream it sends to once opened. */
  private final class PlainWatch extends WebSocketListener {
    private final AttributeSet query;
    private volatile WebSocket out;

    PlainWatch(AttributeSet query) {
      this.query = query;
    }

    /** Joins the watches and sends what matches now, in one step with respect to changes: none is missed. */
    @Override
    public void onOpen(WebSocket webSocket, Response response) {
      out = webSocket;
      synchronized (watches) {
        watches.add(this);
        List<Map.Entry<AttributeSet, String>> entries;
        synchronized (map) {
          entries = new ArrayList<>(map.entrySet());
        }
        entries.stream().filter(e -> e.getKey().matches(query)).forEach(e -> send("ADDED", e.getValue()));
        List<Map.Entry<AttributeSet, String>> deleted;
        synchronized (deletions) {
          deleted = new ArrayList<>(deletions);
        }
        deleted.stream().filter(e -> e.getKey().matches(query)).forEach(e -> send(RECENTLY_DELETED, e.getValue()));
      }
    }

    void changed(AttributeSet oldAttributes, String existing, AttributeSet newAttributes, String newState) {
      boolean matchedOld = oldAttributes != null && oldAttributes.matches(query);
      boolean matchesNew = newAttributes != null && newAttributes.matches(query);
      if (matchedOld && matchesNew) {
        send("MODIFIED", newState);
      } else if (matchedOld) {
        send("DELETED", existing);
      } else if (matchesNew) {
        send("ADDED", newState);
      }
    }

    private void send(String type, String object) {
      out.send("{\"type\":\"" + type + "\",\"object\":" + object + "}");
    }

    @Override
    public void onClosed(WebSocket webSocket, int code, String reason) {
      watches.remove(this);
    }
  }
}
