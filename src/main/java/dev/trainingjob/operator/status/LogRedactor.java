package dev.trainingjob.operator.status;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of status.logTail: the values of the job's environment variables that come
 * from Secrets, wherever they appear, and what looks like a credential (AWS access key ids, private
 * key blocks, password=/token=/api_key= assignments, bearer tokens).
 */
final class LogRedactor {
  static final String MASK = "******";
  /** Shorter values would mask ordinary words and digits all over the log; they are left alone. */
  static final int MIN_SECRET_LENGTH = 4;

  private static final Pattern AWS_KEY_ID = Pattern.compile("(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])");
  private static final Pattern PRIVATE_KEY = Pattern.compile("-----BEGIN [A-Z ]*PRIVATE KEY-----.*");
  private static final Pattern ASSIGNMENT = Pattern.compile(
      "(?i)\\b((?:[a-z0-9_]*_)?(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)[a-z0-9_]*)(\"?\\s*[=:]\\s*[\"']?)([^\\s\"',}]+)");
  /** Credentials in a URL (https://user:token@host/...), as in a git URL a clone step reports. */
  private static final Pattern URL_USERINFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\\s@]+@");
  private static final Pattern BEARER = Pattern.compile("(?i)(bearer\\s+)[A-Za-z0-9._~+/=-]{8,}");

  private LogRedactor() {}

  static List<String> redact(List<String> lines, Collection<String> secretValues) {
    List<String> values = secretValues.stream().filter(v -> v != null && v.length() >= MIN_SECRET_LENGTH)
        .sorted(Comparator.comparingInt(String::length).reversed()).toList();
    List<String> out = new ArrayList<>(lines.size());
    for (String line : lines) {
      String l = line;
      for (String v : values) {
        l = l.replace(v, MASK);
      }
      l = AWS_KEY_ID.matcher(l).replaceAll(MASK);
      l = PRIVATE_KEY.matcher(l).replaceAll(MASK);
      l = ASSIGNMENT.matcher(l).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + MASK));
      l = BEARER.matcher(l).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
      l = URL_USERINFO.matcher(l).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK + "@"));
      out.add(l);
    }
    return out;
  }
}
