package dev.trainingjob.operator.fake.ec2;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The form-encoded parameters of an EC2 Query API request: flat keys such as TagSpecification.1.Tag.2.Key. */
final class QueryParams {
  private final Map<String, String> values;

  private QueryParams(Map<String, String> values) {
    this.values = values;
  }

  static QueryParams parse(String body) {
    Map<String, String> values = new TreeMap<>();
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      values.put(k, v);
    }
    return new QueryParams(values);
  }

  String get(String key) {
    return values.get(key);
  }

  Map<String, String> all() {
    return values;
  }

  /** The members of a list: prefix.1, prefix.2, ... as parameter sets of their own. */
  List<QueryParams> list(String prefix) {
    List<QueryParams> out = new ArrayList<>();
    for (int i = 1; ; i++) {
      String p = prefix + "." + i;
      Map<String, String> sub = new TreeMap<>();
      values.forEach((k, v) -> {
        if (k.equals(p)) {
          sub.put("", v);
        } else if (k.startsWith(p + ".")) {
          sub.put(k.substring(p.length() + 1), v);
        }
      });
      if (sub.isEmpty()) {
        return out;
      }
      out.add(new QueryParams(sub));
    }
  }

  /** A list of plain values: prefix.1, prefix.2, ... */
  List<String> values(String prefix) {
    return list(prefix).stream().map(q -> q.get("")).toList();
  }
}
