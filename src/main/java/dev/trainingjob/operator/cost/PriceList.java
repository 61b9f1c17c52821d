package dev.trainingjob.operator.cost;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Prices per hour by instance type: the bundled on-demand table, overridden or extended by an
 * operator's own list. Cost in status is an estimate from it, never a bill.
 */
public final class PriceList {
  private final Map<String, Double> hourly;

  private PriceList(Map<String, Double> hourly) {
    this.hourly = hourly;
  }

  /** The bundled table, with the entries of {@code override} (a properties file) on top when given. */
  public static PriceList load(Path override) throws IOException {
    Map<String, Double> prices = new TreeMap<>();
    try (InputStream in = PriceList.class.getResourceAsStream("/pricing/on-demand-usd.properties")) {
      read(new InputStreamReader(in, StandardCharsets.UTF_8), prices, "the bundled price list");
    }
    if (override != null) {
      try (Reader r = Files.newBufferedReader(override)) {
        read(r, prices, override.toString());
      }
    }
    return new PriceList(prices);
  }

  public static PriceList bundled() {
    try {
      return load(null);
    } catch (IOException e) {
      throw new IllegalStateException("the bundled price list cannot be read", e);
    }
  }

  private static void read(Reader reader, Map<String, Double> into, String source) throws IOException {
    Properties p = new Properties();
    p.load(reader);
    for (String type : p.stringPropertyNames()) {
      try {
        into.put(type.trim(), Double.parseDouble(p.getProperty(type).trim()));
      } catch (NumberFormatException e) {
        throw new IOException(source + ": the price of " + type + " is not a number: " + p.getProperty(type));
      }
    }
  }

  public Optional<Double> hourly(String instanceType) {
    return Optional.ofNullable(instanceType == null ? null : hourly.get(instanceType));
  }
}
