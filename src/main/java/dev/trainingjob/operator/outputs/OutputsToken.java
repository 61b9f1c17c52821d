package dev.trainingjob.operator.outputs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * The shared secret every outputs request must carry in {@link #HEADER}: the service proxy does not say who asks, and the
 * operator's port is open to every pod on the cluster network, so the token is what RBAC guards instead (get on the one
 * Secret it lives in, granted with the service proxy by the outputs-reader Role). It comes from a file (a mounted Secret),
 * never from a flag's value, so it is in no process list; it is read again on each request (a few bytes), so a Secret
 * created or rotated after the start takes effect without a restart. Without a file the endpoint serves nothing.
 */
public final class OutputsToken {
  public static final String HEADER = "X-Trainingjob-Outputs-Token";
  /** What the token Secret holds it under (the chart's, deploy/'s and the demo's). */
  public static final String SECRET_KEY = "token";
  private static final int MAX_BYTES = 4096;

  private final Path file;

  private OutputsToken(Path file) {
    this.file = file;
  }

  /** The token in {@code file}; null: none configured, and every outputs request is refused. */
  public static OutputsToken from(Path file) {
    return new OutputsToken(file);
  }

  public boolean configured() {
    return file != null;
  }

  /** A refusal of the request that presented {@code presented} (the header's value, null when absent); empty: allowed. */
  Optional<Refusal> check(String presented) {
    if (file == null) {
      return Optional.of(new Refusal(403, "outputs are disabled: no --outputs-token-file (the operator serves collected "
          + "outputs only to holders of its token)"));
    }
    String expected = read();
    if (expected == null) {
      // the path is fine to say (the operator's own mount); the content never is
      return Optional.of(new Refusal(403, "outputs are disabled: the token file " + file + " is missing, unreadable or empty "
          + "(is the outputs-token Secret created and mounted?)"));
    }
    if (presented == null || !sameDigest(expected, presented.strip())) {
      return Optional.of(new Refusal(401, "a valid " + HEADER + " header is required (kubectl trainingjob outputs reads "
          + "it from the operator's outputs-token Secret)"));
    }
    return Optional.empty();
  }

  record Refusal(int status, String text) {}

  private String read() {
    try (InputStream in = Files.newInputStream(file)) {
      String token = new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8).strip();
      return token.isEmpty() ? null : token;
    } catch (IOException e) {
      return null;
    }
  }

  /** Compared as digests, in constant time: neither the bytes nor the length of the token show in how long a refusal takes. */
  private static boolean sameDigest(String a, String b) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] da = sha.digest(a.getBytes(StandardCharsets.UTF_8));
      byte[] db = sha.digest(b.getBytes(StandardCharsets.UTF_8));
      return MessageDigest.isEqual(da, db);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
