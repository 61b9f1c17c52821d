package dev.trainingjob.operator.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import com.sun.net.httpserver.HttpHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * /metrics (Prometheus text format), /healthz (the process serves) and /readyz (the operator reconciles) on one port,
 * plus whatever else the operator serves there (its collected outputs: the one port a Service already reaches).
 */
public final class HealthServer implements AutoCloseable {
  /** The server's threads: twice the outputs endpoint's downloads at once (OutputsEndpoint.MAX_DOWNLOADS). */
  static final int THREADS = 8;
  private final HttpServer http;
  private final ExecutorService threads;

  public HealthServer(int port, PrometheusMeterRegistry prometheus, BooleanSupplier live, BooleanSupplier ready) throws IOException {
    this(new InetSocketAddress(port), prometheus, live, ready, Map.of());
  }

  /** On {@code address} (the demo: loopback only), with {@code more} handlers by path prefix. */
  public HealthServer(InetSocketAddress address, PrometheusMeterRegistry prometheus, BooleanSupplier live, BooleanSupplier ready,
      Map<String, HttpHandler> more) throws IOException {
    http = HttpServer.create(address, 0);
    http.createContext("/metrics", ex -> respond(ex, 200, prometheus.scrape(), "text/plain; version=0.0.4; charset=utf-8"));
    http.createContext("/healthz", ex -> check(ex, live));
    http.createContext("/readyz", ex -> check(ex, ready));
    more.forEach(http::createContext);
    // a bounded pool: a download of outputs may take minutes on a thread, and the outputs endpoint holds at most 4 at
    // once, so the other 4 are always there for the kubelet's probes and Prometheus; no request makes more threads
    threads = Executors.newFixedThreadPool(THREADS, r -> {
      Thread t = new Thread(r, "operator-http");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(threads);
    http.start();
  }

  public int port() {
    return http.getAddress().getPort();
  }

  private static void check(HttpExchange ex, BooleanSupplier probe) throws IOException {
    boolean ok = probe.getAsBoolean();
    respond(ex, ok ? 200 : 503, ok ? "ok\n" : "not ready\n", "text/plain; charset=utf-8");
  }

  /** A whole answer of a few lines. */
  public static void respond(HttpExchange ex, int status, String body, String type) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  @Override
  public void close() {
    http.stop(0);
    threads.shutdownNow();
  }
}
