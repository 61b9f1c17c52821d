package dev.trainingjob.operator.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/** /metrics (Prometheus text format), /healthz (the process serves) and /readyz (the operator reconciles) on one port. */
public final class HealthServer implements AutoCloseable {
  private final HttpServer http;

  public HealthServer(int port, PrometheusMeterRegistry prometheus, BooleanSupplier live, BooleanSupplier ready) throws IOException {
    http = HttpServer.create(new InetSocketAddress(port), 0);
    http.createContext("/metrics", ex -> respond(ex, 200, prometheus.scrape(), "text/plain; version=0.0.4; charset=utf-8"));
    http.createContext("/healthz", ex -> check(ex, live));
    http.createContext("/readyz", ex -> check(ex, ready));
    http.start();
  }

  public int port() {
    return http.getAddress().getPort();
  }

  private static void check(HttpExchange ex, BooleanSupplier probe) throws IOException {
    boolean ok = probe.getAsBoolean();
    respond(ex, ok ? 200 : 503, ok ? "ok\n" : "not ready\n", "text/plain; charset=utf-8");
  }

  private static void respond(HttpExchange ex, int status, String body, String type) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
