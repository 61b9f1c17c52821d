package dev.trainingjob.operator.embedded;

import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API server's service proxy ({@code /api/v1/namespaces/NS/services/NAME[:PORT]/proxy/PATH}) for the Services the
 * embedded API was told about: the request goes on to the server behind the Service, and its answer comes back as it
 * is, status, type and all. What a real API server answers otherwise, this answers too: a Service that does not exist is
 * a 404 Status, one whose server does not answer a 503 Status.
 *
 * <p>The forward waits for the answer on the mock server's only thread: the server behind a Service must not ask this
 * API anything while it answers (the operator's outputs endpoint knows its jobs from a watch for this reason).
 */
final class ServiceProxy {
  private static final Pattern PROXY = Pattern.compile("^/api/v1/namespaces/([^/]+)/services/([^/]+)/proxy(/[^?]*)?(\\?.*)?$");
  private final Map<String, Backend> backends = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private record Backend(String portName, URI target) {}

  void register(String namespace, String service, String portName, URI target) {
    backends.put(namespace + "/" + service, new Backend(portName, target));
  }

  /** The answer to a service-proxy request, or null when the request is another. */
  MockResponse answer(RecordedRequest request) {
    Matcher m = PROXY.matcher(request.getPath());
    if (!m.matches()) {
      return null;
    }
    // NAME, NAME:PORT or SCHEME:NAME:PORT
    String[] segment = m.group(2).split(":", -1);
    String name = segment.length == 3 ? segment[1] : segment[0];
    String port = segment.length == 3 ? segment[2] : segment.length == 2 ? segment[1] : "";
    Backend backend = backends.get(m.group(1) + "/" + name);
    if (backend == null) {
      return ApiStatus.of(404, "NotFound", "services \"" + name + "\" not found");
    }
    if (!port.isEmpty() && !port.equals(backend.portName())) {
      return ApiStatus.of(503, "ServiceUnavailable", "no endpoints available for service \"" + name + "\"");
    }
    String path = (m.group(3) == null ? "/" : m.group(3)) + (m.group(4) == null ? "" : m.group(4));
    try {
      HttpRequest.Builder forward = HttpRequest.newBuilder(backend.target().resolve(path)).timeout(Duration.ofMinutes(2))
          .method(request.getMethod(), HttpRequest.BodyPublishers.noBody());
      // a real API server passes the request's own headers on (not its credentials): the operator's outputs token rides
      // in one; the X- headers are the ones that matter here, and none of them is one the JDK's client refuses to set
      request.getHeaders().toMultimap().forEach((header, values) -> {
        if (header.regionMatches(true, 0, "X-", 0, 2)) {
          values.forEach(v -> forward.header(header, v));
        }
      });
      HttpResponse<byte[]> answer = http.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
      MockResponse response = new MockResponse().setResponseCode(answer.statusCode()).setBody(answer.body());
      answer.headers().map().forEach((header, values) -> {
        if (!header.equalsIgnoreCase("content-length") && !header.equalsIgnoreCase("transfer-encoding")
            && !header.equalsIgnoreCase("date") && !header.startsWith(":")) {
          values.forEach(v -> response.addHeader(header, v));
        }
      });
      return response;
    } catch (IOException e) {
      return ApiStatus.of(503, "ServiceUnavailable", "error trying to reach service: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ApiStatus.of(503, "ServiceUnavailable", "error trying to reach service: interrupted");
    }
  }
}
