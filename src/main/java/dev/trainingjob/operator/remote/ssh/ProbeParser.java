package dev.trainingjob.operator.remote.ssh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainingjob.operator.remote.ProbeResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads probe.sh's JSON; its words are read strictly, its text fields arrive base64-encoded and are cleaned here. */
public final class ProbeParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_LINES = 50;
  static final int MAX_LINE_CHARS = 1000;

  private ProbeParser() {}

  static ProbeResult parse(String output) throws java.io.IOException {
    return parse(output, null, LogWindow.Asked.TAIL);
  }

  /**
   * The probe's JSON, its log added to the job's {@code window} (null: the log it sent is the whole tail): the result's log
   * tail is the window's, however little of it this probe sent.
   */
  static ProbeResult parse(String output, LogWindow window, LogWindow.Asked asked) throws java.io.IOException {
    JsonNode n = JSON.readTree(output);
    String log;
    if (window == null) {
      log = text(n.path("log").asText(""));
    } else {
      Long from = n.path("logFrom").isIntegralNumber() ? n.path("logFrom").asLong() : null;
      byte[] sent = n.path("log").asText("").isEmpty() ? new byte[0] : Base64.getDecoder().decode(n.path("log").asText(""));
      log = from == null && !n.path("log").isTextual() ? "" : window.add(asked, from, n.path("logId").asText(""), sent);
    }
    Integer exit = n.path("exitCode").isNumber() ? n.path("exitCode").asInt() : null;
    String detail = text(n.path("detail").asText(""));
    ProbeResult.ExitReason reason = ProbeResult.ExitReason.parse(n.path("reasonCode").asText(""));
    if (!n.has("reasonCode") && n.has("reason")) {
      // a job started by an operator before the typed protocol keeps that version's probe.sh on its machine
      String legacy = text(n.path("reason").asText("")).strip();
      reason = legacyReason(legacy);
      detail = legacy;
    }
    ProbeResult.Disk disk = n.path("disk").isObject()
        ? new ProbeResult.Disk(n.path("disk").path("usedBytes").asLong(), n.path("disk").path("totalBytes").asLong()) : null;
    return new ProbeResult(ProbeResult.State.of(n.path("state").asText("")), exit, n.path("sessionAlive").asBoolean(false),
        reason, detail.isBlank() ? null : detail.strip(),
        lines(log), progress(text(n.path("progress").asText(""))),
        disk, gpus(text(n.path("gpu").asText(""))), n.path("uptimeSeconds").isNumber() ? n.path("uptimeSeconds").asDouble() : null,
        n.path("attempt").canConvertToInt() && n.path("attempt").isIntegralNumber() ? n.path("attempt").asInt() : null);
  }

  /**
   * The one place sentences are read: the reason a driver of the first release wrote, whose first
   * words said what happened. Only for jobs that were already running when the operator was upgraded.
   */
  static ProbeResult.ExitReason legacyReason(String sentence) {
    if (sentence.isEmpty()) {
      return ProbeResult.ExitReason.NONE;
    }
    if (sentence.startsWith("bootstrap failed")) {
      return ProbeResult.ExitReason.bootstrapFailed("setup");
    }
    if (sentence.startsWith("output sync failed")) {
      return ProbeResult.ExitReason.SYNC_FAILED;
    }
    if (sentence.equals("interrupted")) {
      return ProbeResult.ExitReason.INTERRUPTED;
    }
    return sentence.equals("script exited") ? ProbeResult.ExitReason.EXITED : ProbeResult.ExitReason.UNKNOWN;
  }

  /** Decodes base64 to text; bytes that are not UTF-8 become U+FFFD. */
  static String text(String base64) {
    if (base64.isEmpty()) {
      return "";
    }
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  /**
   * The log's last lines as a terminal would show them: a carriage return redraws the line (tqdm),
   * escape sequences and other control characters are dropped, very long lines are cut.
   */
  public static List<String> lines(String log) {
    List<String> out = new ArrayList<>();
    String[] raw = log.split("\n", -1);
    int end = raw.length;
    if (end > 0 && raw[end - 1].isEmpty()) {
      end--;
    }
    for (int i = Math.max(0, end - MAX_LINES); i < end; i++) {
      String line = raw[i];
      line = line.replaceAll("\r+$", "");
      int cr = line.lastIndexOf('\r');
      if (cr >= 0) {
        line = line.substring(cr + 1);
      }
      line = line.replaceAll("\u001B\\[[0-9;?]*[ -/]*[@-~]", "").replaceAll("[\\p{Cntrl}&&[^\t]]", "");
      if (line.length() > MAX_LINE_CHARS) {
        line = line.substring(0, MAX_LINE_CHARS) + "…";
      }
      out.add(line);
    }
    return out;
  }

  /** The last line of progress.jsonl that is a JSON object (the very last may be half written). */
  static Map<String, Object> progress(String tail) {
    String[] lines = tail.split("\n");
    for (int i = lines.length - 1; i >= 0; i--) {
      try {
        JsonNode node = JSON.readTree(lines[i]);
        if (node != null && node.isObject()) {
          Map<String, Object> out = new LinkedHashMap<>();
          node.fields().forEachRemaining(e -> {
            if (e.getValue().isNumber()) {
              out.put(e.getKey(), e.getValue().numberValue());
            } else if (e.getValue().isTextual()) {
              out.put(e.getKey(), e.getValue().asText());
            }
          });
          return out;
        }
      } catch (java.io.IOException | RuntimeException ignored) {
        // not a record: look at the line before
      }
    }
    return null;
  }

  /** nvidia-smi --format=csv,noheader,nounits lines: name, utilization %, memory used MiB, memory total MiB. */
  static List<ProbeResult.Gpu> gpus(String csv) {
    List<ProbeResult.Gpu> out = new ArrayList<>();
    for (String line : csv.split("\n")) {
      String[] f = line.split(",");
      if (f.length < 4) {
        continue;
      }
      out.add(new ProbeResult.Gpu(f[0].strip(), number(f[1]), whole(f[2]), whole(f[3])));
    }
    return out;
  }

  private static Double number(String s) {
    try {
      return Double.parseDouble(s.strip());
    } catch (NumberFormatException e) {
      return null; // "[N/A]"
    }
  }

  private static Long whole(String s) {
    Double d = number(s);
    return d == null ? null : Math.round(d);
  }
}
