package dev.trainingjob.operator.fake.s3;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * A fake S3 REST endpoint on 127.0.0.1 (path-style) that the real AWS SDK talks to: ListObjectsV2 (pages with
 * continuation tokens, keys URL-encoded when asked, as the SDK asks) and GetObject (ETag, Last-Modified, the CRC32
 * checksum when the SDK asks for it), and S3's error documents with S3's status codes for what S3 refuses: a request
 * without a SigV4 Authorization header or x-amz-content-sha256, an unknown access key, a signature for another
 * region than the bucket's (AuthorizationHeaderMalformed), a bucket that does not exist (NoSuchBucket), what a
 * bucket policy denies (AccessDenied), a missing key (NoSuchKey, or AccessDenied to a caller who may not list, as S3
 * answers), a continuation token it did not hand out, a negative max-keys. The signature itself is not checked.
 * Objects live in memory, so a key S3 would take but a file system would not ("../x") can be stored.
 */
public final class FakeS3 implements AutoCloseable {
  public static final String ACCESS_KEY = "AKIAFAKES3TESTKEY000";
  public static final String SECRET_KEY = "fake/secret/key/for/the/fake/s3/only000";
  private static final Pattern AUTH = Pattern.compile(
      "AWS4-HMAC-SHA256 Credential=([^/]+)/\\d{8}/([^/]+)/s3/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}");
  private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

  private record Bucket(String region, NavigableMap<String, byte[]> objects, Set<String> denied) {}

  private final HttpServer http;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final Instant modified = Instant.parse("2025-06-01T12:00:00Z");
  private volatile int pageSize = 1000;

  public FakeS3() throws IOException {
    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    http.createContext("/", this::handle);
    http.start();
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
  }

  public void createBucket(String name, String region) {
    buckets.put(name, new Bucket(region, new ConcurrentSkipListMap<>(), ConcurrentHashMap.newKeySet()));
  }

  public void put(String bucket, String key, String content) {
    buckets.get(bucket).objects().put(key, content.getBytes(StandardCharsets.UTF_8));
  }

  /** A bucket policy's Deny of {@code action} (s3:ListBucket, s3:GetObject) for every caller. */
  public void deny(String bucket, String action) {
    buckets.get(bucket).denied().add(action);
  }

  /** At most this many keys a page, whatever max-keys asks (S3 may return fewer): lists then take several pages. */
  public void pageSize(int keys) {
    pageSize = keys;
  }

  /** "GET /bucket?query" for each request seen. */
  public List<String> requests() {
    return List.copyOf(requests);
  }

  @Override
  public void close() {
    http.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String rawQuery = ex.getRequestURI().getRawQuery();
      requests.add(ex.getRequestMethod() + " " + ex.getRequestURI().getRawPath() + (rawQuery == null ? "" : "?" + rawQuery));
      String[] path = ex.getRequestURI().getRawPath().substring(1).split("/", 2);
      String bucketName = decode(path[0]);
      Bucket bucket = buckets.get(bucketName);
      String refusal = authRefusal(ex, bucket);
      if (refusal != null) {
        return;
      }
      if (bucket == null) {
        error(ex, 404, "NoSuchBucket", "The specified bucket does not exist", Map.of("BucketName", bucketName));
      } else if (!ex.getRequestMethod().equals("GET")) {
        error(ex, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.", Map.of());
      } else if (path.length == 1 || path[1].isEmpty()) {
        list(ex, bucketName, bucket, query(rawQuery));
      } else {
        get(ex, bucket, decode(path[1]));
      }
    }
  }

  /** Null when the request is signed as S3 takes it; otherwise the refusal has been sent and its code is returned. */
  private String authRefusal(HttpExchange ex, Bucket bucket) throws IOException {
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    Matcher m = auth == null ? null : AUTH.matcher(auth);
    if (m == null || !m.matches()) {
      return error(ex, 403, "AccessDenied", "Access Denied", Map.of());
    }
    if (ex.getRequestHeaders().getFirst("x-amz-content-sha256") == null) {
      return error(ex, 400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256", Map.of());
    }
    if (!m.group(1).equals(ACCESS_KEY)) {
      return error(ex, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
          Map.of("AWSAccessKeyId", m.group(1)));
    }
    if (bucket != null && !bucket.region().equals(m.group(2))) {
      return error(ex, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the region '" + m.group(2)
          + "' is wrong; expecting '" + bucket.region() + "'", Map.of("Region", bucket.region()));
    }
    return null;
  }

  private void list(HttpExchange ex, String name, Bucket bucket, Map<String, String> q) throws IOException {
    if (!"2".equals(q.get("list-type"))) {
      error(ex, 501, "NotImplemented", "A header you provided implies functionality that is not implemented", Map.of());
      return;
    }
    if (bucket.denied().contains("s3:ListBucket")) {
      error(ex, 403, "AccessDenied", "Access Denied", Map.of());
      return;
    }
    int maxKeys = q.containsKey("max-keys") ? Integer.parseInt(q.get("max-keys")) : 1000;
    if (maxKeys < 0) {
      error(ex, 400, "InvalidArgument", "Provided max-keys not an integer or within integer range", Map.of("ArgumentName", "max-keys"));
      return;
    }
    String prefix = q.getOrDefault("prefix", "");
    String after = q.getOrDefault("start-after", "");
    String token = q.get("continuation-token");
    if (token != null) {
      try {
        after = new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        error(ex, 400, "InvalidArgument", "The continuation token provided is incorrect", Map.of("ArgumentName", "continuation-token"));
        return;
      }
    }
    boolean urlEncoded = "url".equals(q.get("encoding-type"));
    int limit = Math.min(Math.min(maxKeys, 1000), pageSize);
    List<String> keys = new ArrayList<>();
    boolean truncated = false;
    for (String key : bucket.objects().tailMap(after, false).keySet()) {
      if (!key.startsWith(prefix)) {
        continue;
      }
      if (keys.size() == limit) {
        truncated = true;
        break;
      }
      keys.add(key);
    }
    StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    xml.append(element("Name", name)).append(element("Prefix", urlEncoded ? encode(prefix) : prefix))
        .append(element("KeyCount", String.valueOf(keys.size()))).append(element("MaxKeys", String.valueOf(maxKeys)))
        .append(element("IsTruncated", String.valueOf(truncated)));
    if (urlEncoded) {
      xml.append(element("EncodingType", "url"));
    }
    if (token != null) {
      xml.append(element("ContinuationToken", token));
    }
    if (truncated) {
      xml.append(element("NextContinuationToken",
          Base64.getEncoder().encodeToString(keys.get(keys.size() - 1).getBytes(StandardCharsets.UTF_8))));
    }
    for (String key : keys) {
      byte[] body = bucket.objects().get(key);
      xml.append("<Contents>").append(element("Key", urlEncoded ? encode(key) : key))
          .append(element("LastModified", modified.toString().replace("Z", ".000Z"))).append(element("ETag", etag(body)))
          .append(element("Size", String.valueOf(body.length))).append(element("StorageClass", "STANDARD")).append("</Contents>");
    }
    xml.append("</ListBucketResult>");
    send(ex, 200, "application/xml", xml.toString().getBytes(StandardCharsets.UTF_8), Map.of());
  }

  private void get(HttpExchange ex, Bucket bucket, String key) throws IOException {
    byte[] body = bucket.objects().get(key);
    if (bucket.denied().contains("s3:GetObject")) {
      error(ex, 403, "AccessDenied", "Access Denied", Map.of());
    } else if (body == null && bucket.denied().contains("s3:ListBucket")) {
      error(ex, 403, "AccessDenied", "Access Denied", Map.of()); // S3 does not tell who may not list that a key is missing
    } else if (body == null) {
      error(ex, 404, "NoSuchKey", "The specified key does not exist.", Map.of("Key", key));
    } else {
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("ETag", etag(body));
      headers.put("Last-Modified", HTTP_DATE.format(modified));
      if ("ENABLED".equals(ex.getRequestHeaders().getFirst("x-amz-checksum-mode"))) {
        CRC32 crc = new CRC32();
        crc.update(body);
        headers.put("x-amz-checksum-crc32", Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array()));
        headers.put("x-amz-checksum-type", "FULL_OBJECT");
      }
      send(ex, 200, "application/octet-stream", body, headers);
    }
  }

  private static String error(HttpExchange ex, int status, String code, String message, Map<String, String> more) throws IOException {
    StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>")
        .append(element("Code", code)).append(element("Message", message));
    more.forEach((k, v) -> xml.append(element(k, v)));
    xml.append(element("RequestId", requestId())).append(element("HostId", Base64.getEncoder().encodeToString(requestId().getBytes())))
        .append("</Error>");
    send(ex, status, "application/xml", xml.toString().getBytes(StandardCharsets.UTF_8), Map.of());
    return code;
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body, Map<String, String> headers) throws IOException {
    ex.getResponseHeaders().add("Content-Type", type);
    ex.getResponseHeaders().add("x-amz-request-id", requestId());
    headers.forEach(ex.getResponseHeaders()::add);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    ex.getResponseBody().write(body);
  }

  private static String requestId() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase();
  }

  private static String etag(byte[] body) {
    try {
      return "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body)) + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String element(String name, String value) {
    return "<" + name + ">" + value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
        + "</" + name + ">";
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new LinkedHashMap<>();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        q.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
      }
    }
    return q;
  }

  /** Percent-decoding of a path or query part, where "+" is a plus (the SDK encodes a space as %20). */
  private static String decode(String raw) {
    return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** What encoding-type=url does to a key in a listing. */
  private static String encode(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8);
  }
}
