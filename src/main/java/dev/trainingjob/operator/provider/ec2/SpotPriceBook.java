package dev.trainingjob.operator.provider.ec2;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.SpotPrice;

/**
 * Spot prices by instance type and zone, from DescribeSpotPriceHistory: asked at most once an hour per type and zone (spot
 * prices change slowly, and every job of a type in a zone shares the answer). A failed call is not repeated for a few
 * minutes; meanwhile the caller prices from the list.
 */
final class SpotPriceBook {
  private static final Logger LOG = LoggerFactory.getLogger(SpotPriceBook.class);
  static final Duration KEEP = Duration.ofHours(1);
  static final Duration AFTER_FAILURE = Duration.ofMinutes(5);
  /** The product description of the operator's images: Linux, in a VPC (EC2 no longer names the VPC). */
  static final String LINUX = "Linux/UNIX";

  private record Key(String type, String zone) {}

  private record Entry(Double usdPerHour, Instant askedAt, boolean failed) {}

  private final Ec2Client ec2;
  private final Clock clock;
  private final Map<Key, Entry> book = new ConcurrentHashMap<>();
  private final Map<Key, Object> asking = new ConcurrentHashMap<>();

  SpotPriceBook(Ec2Client ec2, Clock clock) {
    this.ec2 = ec2;
    this.clock = clock;
  }

  Optional<Double> hourly(String type, String zone) {
    Key key = new Key(type, zone);
    // one question per key at a time (the jobs of a type in a zone share its answer), and no other key waits for it
    synchronized (asking.computeIfAbsent(key, k -> new Object())) {
      Instant now = clock.instant();
      Entry old = book.get(key);
      if (old != null && Duration.between(old.askedAt(), now).compareTo(old.failed() ? AFTER_FAILURE : KEEP) < 0) {
        return Optional.ofNullable(old.usdPerHour());
      }
      Entry entry = ask(key, now);
      book.put(key, entry);
      return Optional.ofNullable(entry.usdPerHour());
    }
  }

  private Entry ask(Key key, Instant now) {
    try {
      // start and end now: EC2 answers the price in effect now (the last change before it), newest first
      var prices = ec2.describeSpotPriceHistory(r -> r.instanceTypesWithStrings(key.type()).availabilityZone(key.zone())
          .productDescriptions(LINUX).startTime(now).endTime(now).maxResults(10)).spotPriceHistory();
      Optional<Double> price = prices.stream().filter(p -> key.zone().equals(p.availabilityZone()))
          .max(Comparator.comparing(SpotPrice::timestamp)).map(p -> Double.parseDouble(p.spotPrice()));
      return new Entry(price.orElse(null), now, false); // no price for the type there: the list's, until the next hour
    } catch (SdkException | NumberFormatException e) {
      LOG.warn("the spot price of {} in {} could not be read ({}); pricing from the list meanwhile", key.type(), key.zone(),
          e.getMessage());
      return new Entry(null, now, true);
    }
  }
}
