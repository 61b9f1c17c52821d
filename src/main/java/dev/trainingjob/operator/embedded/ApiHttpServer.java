package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.vertx.HttpServerRequestHandler;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The embedded API's HTTP server: Vert.x, set up and answering as the Fabric8 mock server's own (each request through the
 * Dispatcher, HTTP and WebSocket alike, by the mock server's request handler), plus what that server cannot do: stream a
 * response. kubectl's watches are plain HTTP ({@code watch=true}, no WebSocket upgrade) and each gets a
 * {@link WatchStream}; Fabric8's clients, the operator's informers among them, keep their WebSocket watches.
 */
final class ApiHttpServer implements AutoCloseable {
  /** The sub-protocols the mock server accepts on a WebSocket (exec, attach). */
  private static final List<String> WEBSOCKET_SUB_PROTOCOLS =
      List.of("v1.channel.k8s.io", "v2.channel.k8s.io", "v3.channel.k8s.io", "v4.channel.k8s.io");
  private final Vertx vertx = Vertx.vertx();
  private final Dispatcher dispatcher;
  private final Function<RecordedRequest, UnaryOperator<ObjectNode>> shapes;
  private final Set<WatchStream> watches = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private HttpServer server;

  /**
   * @param dispatcher answers every request; a plain watch with a watch listener (see {@link WatchableCrud})
   * @param shapes for a plain watch, what each of its events becomes (see {@link WatchFilter})
   */
  ApiHttpServer(Dispatcher dispatcher, Function<RecordedRequest, UnaryOperator<ObjectNode>> shapes) {
    this.dispatcher = dispatcher;
    this.shapes = shapes;
  }

  /** A watch made the way client-go makes it: watch=true on a GET that does not ask for a WebSocket. */
  static boolean isPlainWatch(String method, String path, String upgrade) {
    if (!"GET".equals(method) || (upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket"))) {
      return false;
    }
    return "true".equals(parameter(path, "watch")); // as client-go writes it, and as the CRUD dispatcher knows it
  }

  /** A query parameter of a request path, URL-decoded; null when absent. */
  static String parameter(String path, String name) {
    List<String> values = new QueryStringDecoder(path).parameters().get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** Listens on address:port (0 picks a free port) and returns the port. */
  int start(InetAddress address, int port) {
    HttpServerOptions options = new HttpServerOptions().setHost(address.getHostAddress()).setPort(port)
        .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
        .setWebSocketSubProtocols(WEBSOCKET_SUB_PROTOCOLS).setHandle100ContinueAutomatically(true);
    HttpServerRequestHandler mock = new HttpServerRequestHandler(vertx) {
      @Override
      protected MockResponse onHttpRequest(RecordedRequest request) {
        return dispatcher.dispatch(request);
      }
    };
    server = await(vertx.createHttpServer(options).requestHandler(request -> {
      if (isPlainWatch(request.method().name(), request.uri(), request.getHeader("Upgrade"))) {
        watch(request);
      } else {
        mock.handle(request);
      }
    }).listen());
    return server.actualPort();
  }

  private void watch(HttpServerRequest request) {
    RecordedRequest recorded = new RecordedRequest(request.version().alpnName().toUpperCase(Locale.ROOT),
        HttpMethod.fromVertx(request.method()), request.uri(), Headers.builder().addAll(request.headers()).build(), new Buffer());
    MockResponse answer = dispatcher.dispatch(recorded);
    if (answer.getWebSocketListener() == null) {
      send(request.response(), answer); // a refusal: a bad selector, say
      return;
    }
    WatchStream stream = new WatchStream(recorded, request.response(), vertx.getOrCreateContext(),
        answer.getWebSocketListener(), shapes.apply(recorded), watches::remove);
    watches.add(stream);
    stream.open(seconds(parameter(request.uri(), "timeoutSeconds")));
  }

  /** timeoutSeconds as a number; 0 (no timeout) when absent or not one. */
  private static long seconds(String value) {
    try {
      return value == null ? 0 : Math.max(0, Long.parseLong(value));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static void send(HttpServerResponse response, MockResponse answer) {
    response.setStatusCode(answer.code());
    answer.getHeaders().toMultimap().forEach((name, values) -> response.headers().add(name, values));
    Buffer body = answer.getBody();
    response.end(body == null ? io.vertx.core.buffer.Buffer.buffer() : io.vertx.core.buffer.Buffer.buffer(body.getBytes()));
  }

  /** Ends every open watch, then the server and its threads. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    List.copyOf(watches).forEach(WatchStream::end);
    if (server != null) {
      await(server.close());
    }
    await(vertx.close());
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the embedded API's HTTP server", e);
    }
  }
}
