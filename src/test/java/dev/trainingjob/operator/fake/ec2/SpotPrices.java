package dev.trainingjob.operator.fake.ec2;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;

/**
 * The region's spot prices and DescribeSpotPriceHistory over them, as the EC2 API reference has it: one series of
 * price changes per instance type, Availability Zone and product description; an answer holds the changes between
 * StartTime and EndTime (both now when not given) and, for each series, the last change before StartTime (the
 * price in effect then), newest first, as EC2 answers; InstanceType.N, ProductDescription.N, AvailabilityZone and
 * the filters availability-zone, instance-type, product-description, spot-price and timestamp (with the wildcards
 * * and ?) narrow it; MaxResults (1 to 1000, 1000 when not given) and NextToken page it. Prices are written with
 * six decimals, as EC2 writes them ("0.382100").
 */
final class SpotPrices {
  /** The one product description the operator's images are (Linux, in a VPC: EC2 no longer names the VPC). */
  static final String LINUX = "Linux/UNIX";
  /** The product descriptions DescribeSpotPriceHistory documents. */
  static final Set<String> PRODUCTS = Set.of("Linux/UNIX", "Red Hat Enterprise Linux", "SUSE Linux", "Windows",
      "Linux/UNIX (Amazon VPC)", "Red Hat Enterprise Linux (Amazon VPC)", "SUSE Linux (Amazon VPC)", "Windows (Amazon VPC)");
  private static final Set<String> FILTERS = Set.of("availability-zone", "instance-type", "product-description", "spot-price",
      "timestamp");
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final String TOKEN_PREFIX = "spot-price-history:";

  record Series(String instanceType, String zone, String product) {}

  private record Point(Series series, Instant timestamp, String price) {}

  private final Map<Series, NavigableMap<Instant, String>> series = new ConcurrentHashMap<>();

  /** Records a price change of a series at a time; a later change at the same time replaces it. */
  void put(String instanceType, String zone, String product, String price, Instant timestamp) {
    series.computeIfAbsent(new Series(instanceType, zone, product), s -> new ConcurrentSkipListMap<>())
        .put(timestamp.truncatedTo(ChronoUnit.MILLIS), normalized(price));
  }

  /** A price as EC2 writes it, six decimals; anything but a positive decimal number is a mistake of the test. */
  static String normalized(String price) {
    BigDecimal p;
    try {
      p = new BigDecimal(price);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("a spot price is a decimal number of dollars an hour, not '" + price + "'");
    }
    if (p.signum() <= 0 || p.scale() > 6) {
      throw new IllegalArgumentException("a spot price is positive, with at most six decimals: " + price);
    }
    return p.setScale(6, RoundingMode.UNNECESSARY).toPlainString();
  }

  String describe(QueryParams q, Set<String> knownTypes, Instant now) {
    List<String> types = q.values("InstanceType");
    for (String t : types) {
      if (!knownTypes.contains(t)) {
        throw new FakeAccount.Ec2Error(400, "InvalidParameterValue", "Invalid value '" + t + "' for InstanceType.");
      }
    }
    List<String> products = q.values("ProductDescription");
    String zone = q.get("AvailabilityZone");
    Instant start = time(q, "StartTime", now);
    Instant end = time(q, "EndTime", now);
    int max = 1000;
    if (q.get("MaxResults") != null) {
      try {
        max = Integer.parseInt(q.get("MaxResults"));
      } catch (NumberFormatException e) {
        max = -1;
      }
      if (max < 1 || max > 1000) {
        throw new FakeAccount.Ec2Error(400, "InvalidParameterValue", "Value ( " + q.get("MaxResults")
            + " ) for parameter maxResults is invalid. Parameter must be between 1 and 1000.");
      }
    }
    List<QueryParams> filters = q.list("Filter");
    for (QueryParams f : filters) {
      if (!FILTERS.contains(f.get("Name"))) {
        throw new FakeAccount.Ec2Error(400, "InvalidParameterValue", "The filter '" + f.get("Name") + "' is invalid");
      }
    }
    int from = from(q.get("NextToken"));

    List<Point> matched = new ArrayList<>();
    Map<Series, NavigableMap<Instant, String>> ordered = new TreeMap<>(
        Comparator.comparing(Series::instanceType).thenComparing(Series::zone).thenComparing(Series::product));
    ordered.putAll(series);
    for (Map.Entry<Series, NavigableMap<Instant, String>> e : ordered.entrySet()) {
      Series s = e.getKey();
      if (!types.isEmpty() && !types.contains(s.instanceType()) || !products.isEmpty() && !products.contains(s.product())
          || zone != null && !zone.equals(s.zone())) {
        continue;
      }
      NavigableMap<Instant, String> changes = e.getValue();
      Map.Entry<Instant, String> inEffect = changes.floorEntry(start);
      if (inEffect != null && !inEffect.getKey().isAfter(end)) {
        add(matched, filters, new Point(s, inEffect.getKey(), inEffect.getValue()));
      }
      if (!end.isBefore(start)) {
        changes.subMap(start, false, end, true).forEach((t, price) -> add(matched, filters, new Point(s, t, price)));
      }
    }
    matched.sort(Comparator.comparing(Point::timestamp).reversed());
    if (from > matched.size()) {
      throw invalidToken();
    }
    int to = Math.min(matched.size(), from + max);
    Xml x = new Xml().open("spotPriceHistorySet");
    for (Point p : matched.subList(from, to)) {
      x.open("item").leaf("instanceType", p.series().instanceType()).leaf("productDescription", p.series().product())
          .leaf("spotPrice", p.price()).leaf("timestamp", MILLIS.format(p.timestamp()))
          .leaf("availabilityZone", p.series().zone()).close("item");
    }
    x.close("spotPriceHistorySet");
    // EC2 answers an empty nextToken on the last page
    x.leaf("nextToken", to < matched.size() ? token(to) : "");
    return x.toString();
  }

  private static void add(List<Point> matched, List<QueryParams> filters, Point p) {
    for (QueryParams f : filters) {
      List<String> actual = switch (f.get("Name")) {
        case "availability-zone" -> List.of(p.series().zone());
        case "instance-type" -> List.of(p.series().instanceType());
        case "product-description" -> List.of(p.series().product());
        case "spot-price" -> List.of(p.price());
        default -> List.of(SECONDS.format(p.timestamp()), MILLIS.format(p.timestamp()));
      };
      if (f.values("Value").stream().noneMatch(v -> actual.stream().anyMatch(a -> wildcard(v).matcher(a).matches()))) {
        return;
      }
    }
    matched.add(p);
  }

  /** An EC2 filter value: * is any run of characters, ? any one, everything else itself. */
  private static Pattern wildcard(String value) {
    StringBuilder re = new StringBuilder();
    for (char c : value.toCharArray()) {
      re.append(c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf(c)));
    }
    return Pattern.compile(re.toString());
  }

  /** A time parameter: an ISO 8601 date-time (UTC when it names no zone), or a date. */
  private static Instant time(QueryParams q, String name, Instant otherwise) {
    String v = q.get(name);
    if (v == null) {
      return otherwise;
    }
    try {
      return OffsetDateTime.parse(v).toInstant();
    } catch (DateTimeParseException notWithZone) {
      try {
        return LocalDateTime.parse(v).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException notLocal) {
        try {
          return LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException notADate) {
          String param = Character.toLowerCase(name.charAt(0)) + name.substring(1);
          throw new FakeAccount.Ec2Error(400, "InvalidParameterValue", "Value (" + v + ") for parameter " + param
              + " is invalid. Expected a date and time in UTC format, for example YYYY-MM-DDTHH:MM:SSZ.");
        }
      }
    }
  }

  private static String token(int offset) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString((TOKEN_PREFIX + offset).getBytes(StandardCharsets.UTF_8));
  }

  private static int from(String token) {
    if (token == null || token.isEmpty()) {
      return 0;
    }
    try {
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (text.startsWith(TOKEN_PREFIX)) {
        int offset = Integer.parseInt(text.substring(TOKEN_PREFIX.length()));
        if (offset > 0) {
          return offset;
        }
      }
    } catch (IllegalArgumentException e) {
      // not one of ours: NumberFormatException is one too
    }
    throw invalidToken();
  }

  private static FakeAccount.Ec2Error invalidToken() {
    return new FakeAccount.Ec2Error(400, "InvalidPaginationToken", "The specified pagination token is not valid or is expired.");
  }
}
