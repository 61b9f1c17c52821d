package dev.trainingjob.operator.fake.ec2;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The instance metadata service of every fake instance: one HTTP server on 127.0.0.1, each instance under
 * {@code /<instance-id>}, where a real instance has its own at http://169.254.169.254. It behaves as IMDSv2 does
 * ("Use the Instance Metadata Service to access instance metadata", "How Instance Metadata Service Version 2
 * works"): {@code PUT /latest/api/token} with X-aws-ec2-metadata-token-ttl-seconds between 1 and 21600 gives a
 * session token for that instance (400 without the header or outside that range; 403 for a PUT carrying
 * X-Forwarded-For, which IMDSv2 never answers with a token); a GET needs a valid token of that instance in
 * X-aws-ec2-metadata-token (401 otherwise), unless the instance was launched with HttpTokens=optional and sends none;
 * an instance launched with HttpEndpoint=disabled gets 403. What it serves: meta-data/ instance-id, instance-type,
 * ami-id, local-ipv4, instance-life-cycle (spot or on-demand), and for a spot instance EC2 decided to interrupt
 * spot/instance-action ({"action": "terminate", "time": "..."}) and spot/termination-time, which are 404 until then.
 * Unknown paths are 404, with the HTML the real one answers.
 */
final class FakeImds implements AutoCloseable {
  static final String TOKEN = "X-aws-ec2-metadata-token";
  static final String TTL = "X-aws-ec2-metadata-token-ttl-seconds";
  static final int MAX_TTL_SECONDS = 21600;
  private static final SecureRandom RANDOM = new SecureRandom();

  private record Session(String instanceId, Instant expires) {}

  private final HttpServer http;
  private final ExecutorService threads;
  private final Function<String, FakeInstance> instances;
  private final Clock clock;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();

  /** @param instances an instance by id, found without waiting for the account's lock (null when none) */
  FakeImds(Function<String, FakeInstance> instances, Clock clock) throws IOException {
    this.instances = instances;
    this.clock = clock;
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "fake-imds");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(threads); // instances ask at once, and none waits for another
    http.createContext("/", this::handle);
    http.start();
  }

  /** The root every instance's metadata is under, at /{instance-id}. */
  URI root() {
    return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      ex.getRequestBody().readAllBytes();
      String path = ex.getRequestURI().getPath();
      int slash = path.indexOf('/', 1);
      FakeInstance i = slash < 0 ? null : instances.apply(path.substring(1, slash));
      if (i == null || "terminated".equals(i.state())) {
        html(ex, 404, "Not Found");
        return;
      }
      if ("disabled".equals(i.launchParam("MetadataOptions.HttpEndpoint"))) {
        html(ex, 403, "Forbidden");
        return;
      }
      String rest = path.substring(slash);
      switch (ex.getRequestMethod()) {
        case "PUT" -> {
          if (rest.equals("/latest/api/token")) {
            token(ex, i);
          } else {
            html(ex, 405, "Method Not Allowed");
          }
        }
        case "GET" -> {
          if (authorised(ex, i)) {
            get(ex, i, rest);
          } else {
            html(ex, 401, "Unauthorized");
          }
        }
        default -> html(ex, 405, "Method Not Allowed");
      }
    }
  }

  private void token(HttpExchange ex, FakeInstance i) throws IOException {
    if (ex.getRequestHeaders().containsKey("X-Forwarded-For")) {
      html(ex, 403, "Forbidden"); // a request that came through a proxy gets no token
      return;
    }
    String ttl = ex.getRequestHeaders().getFirst(TTL);
    int seconds;
    try {
      seconds = ttl == null ? -1 : Integer.parseInt(ttl.strip());
    } catch (NumberFormatException e) {
      seconds = -1;
    }
    if (seconds < 1 || seconds > MAX_TTL_SECONDS) {
      html(ex, 400, "Bad Request");
      return;
    }
    byte[] raw = new byte[40];
    RANDOM.nextBytes(raw);
    String token = Base64.getEncoder().encodeToString(raw);
    sessions.put(token, new Session(i.id, clock.instant().plusSeconds(seconds)));
    ex.getResponseHeaders().add(TTL, Integer.toString(seconds));
    text(ex, 200, token);
  }

  private boolean authorised(HttpExchange ex, FakeInstance i) {
    String token = ex.getRequestHeaders().getFirst(TOKEN);
    if (token == null) {
      return "optional".equals(i.launchParam("MetadataOptions.HttpTokens")); // IMDSv1, where the instance allows it
    }
    Session s = sessions.get(token);
    if (s == null || !s.instanceId().equals(i.id)) {
      return false;
    }
    if (!clock.instant().isBefore(s.expires())) {
      sessions.remove(token);
      return false;
    }
    return true;
  }

  private void get(HttpExchange ex, FakeInstance i, String path) throws IOException {
    Instant action = i.spotActionTime;
    String time = action == null ? null : DateTimeFormatter.ISO_INSTANT.format(action);
    String body = switch (path) {
      case "/latest/meta-data", "/latest/meta-data/" -> "ami-id\ninstance-id\ninstance-life-cycle\ninstance-type\nlocal-ipv4"
          + (time == null ? "" : "\nspot/");
      case "/latest/meta-data/instance-id" -> i.id;
      case "/latest/meta-data/instance-type" -> i.instanceType;
      case "/latest/meta-data/ami-id" -> i.imageId;
      case "/latest/meta-data/local-ipv4" -> i.address;
      case "/latest/meta-data/instance-life-cycle" -> i.spot() ? "spot" : "on-demand";
      case "/latest/meta-data/spot", "/latest/meta-data/spot/" -> time == null ? null : "instance-action\ntermination-time";
      case "/latest/meta-data/spot/instance-action" -> time == null ? null : "{\"action\": \"terminate\", \"time\": \"" + time + "\"}";
      case "/latest/meta-data/spot/termination-time" -> time;
      default -> null;
    };
    if (body == null) {
      html(ex, 404, "Not Found");
    } else {
      text(ex, 200, body);
    }
  }

  private static void text(HttpExchange ex, int status, String body) throws IOException {
    send(ex, status, "text/plain", body);
  }

  /** An error as the real service answers it: an XHTML page naming the status. */
  private static void html(HttpExchange ex, int status, String reason) throws IOException {
    String title = status + " - " + reason;
    send(ex, status, "text/html", "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
        + "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
        + "\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
        + "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>" + title
        + "</title>\n </head>\n <body>\n  <h1>" + title + "</h1>\n </body>\n</html>\n");
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.getResponseHeaders().add("Server", "EC2ws");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    http.stop(0);
    threads.shutdownNow();
  }
}
