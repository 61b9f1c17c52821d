package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * One watch as kubectl (client-go) makes it: a plain HTTP GET with watch=true, answered with a chunked stream of JSON
 * watch events, one a line. The events come from the CRUD dispatcher ({@link WatchableCrud}) through a watch listener,
 * as its WebSocket watches get theirs: the listener is opened with this stream standing in for the WebSocket, so
 * kubectl sees exactly the changes the operator sees.
 *
 * <p>The stream ends when the client goes away, when {@code timeoutSeconds} have passed (kubectl then lists and watches
 * again, as against a real API server), or when the server closes; each end also closes the listener.
 */
final class WatchStream implements WebSocket {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final RecordedRequest request;
  private final HttpServerResponse response;
  /** The event loop the response belongs to: every write goes through it, in order, whichever thread sends. */
  private final Context context;
  private final WebSocketListener listener;
  private final UnaryOperator<ObjectNode> shape;
  private final Consumer<WatchStream> onEnd;
  private final AtomicBoolean ended = new AtomicBoolean();
  private volatile long timer = -1;

  /**
   * @param shape what each event becomes for this client, or null to leave it out
   * @param onEnd run once, when the stream has ended
   */
  WatchStream(RecordedRequest request, HttpServerResponse response, Context context, WebSocketListener listener,
      UnaryOperator<ObjectNode> shape, Consumer<WatchStream> onEnd) {
    this.request = request;
    this.response = response;
    this.context = context;
    this.listener = listener;
    this.shape = shape;
    this.onEnd = onEnd;
  }

  /** Sends the head at once (kubectl waits for it before it counts the watch as started), then the events as they come. */
  void open(long timeoutSeconds) {
    response.setStatusCode(200).setChunked(true).putHeader("Content-Type", "application/json");
    response.closeHandler(gone -> end());
    // registered before the head goes: once kubectl counts the watch as started, no change can fall between
    listener.onOpen(this, new MockResponse());
    response.writeHead();
    if (timeoutSeconds > 0) {
      timer = context.owner().setTimer(timeoutSeconds * 1000, fired -> end());
    }
  }

  @Override
  public RecordedRequest request() {
    return request;
  }

  /** One event from the dispatcher (on the thread that made the change): passed on, shaped, as one line. */
  @Override
  public boolean send(String event) {
    if (ended.get()) {
      return false;
    }
    ObjectNode shaped;
    try {
      shaped = shape.apply((ObjectNode) JSON.readTree(event));
    } catch (IOException | RuntimeException unreadable) {
      return false; // never the writer's failure: the write this event tells of is already stored
    }
    if (shaped != null) {
      String line = shaped + "\n";
      context.runOnContext(v -> {
        if (!response.ended() && !response.closed()) {
          response.write(line);
        }
      });
    }
    return true;
  }

  @Override
  public boolean send(byte[] event) {
    return send(new String(event, java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public boolean close(int code, String reason) {
    end();
    return true;
  }

  /** Ends the stream (once): the response ends cleanly, so kubectl watches again if it still wants to; the listener leaves. */
  void end() {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    context.runOnContext(v -> {
      context.owner().cancelTimer(timer);
      if (!response.ended() && !response.closed()) {
        response.end();
      }
    });
    listener.onClosed(this, 1000, "the watch ended");
    onEnd.accept(this);
  }
}
