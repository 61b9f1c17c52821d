package dev.trainingjob.operator.progress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Progress read from a script's output, for scripts that do not write TRAININGJOB_PROGRESS_FILE:
 * what Keras, tqdm, PyTorch Lightning, the Hugging Face Trainer and plain "step N/M" lines print.
 * The result uses the progress file's keys (epoch, epochs, step, steps, percent; other numbers are
 * metrics), so both sources end in the same status. Lines are as a terminal shows them (a carriage
 * return has already redrawn the line); the newest line of each kind wins.
 */
public final class LogProgress {
  private LogProgress() {}

  private static final String NUM = "[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?";
  /** Keras and plain text: "Epoch 3/10". */
  private static final Pattern EPOCH_OF = Pattern.compile("(?i)\\bepoch\\s*[:=]?\\s*(\\d+)\\s*/\\s*(\\d+)");
  /** Plain text: "step 120/1000", "Step 120 of 1000", "iter 5/10". */
  private static final Pattern STEP_OF = Pattern.compile("(?i)\\b(?:step|iter(?:ation)?|batch)\\s*[:=]?\\s*(\\d+)\\s*(?:/|of)\\s*(\\d+)");
  /** tqdm: "45%|████▌     | 450/1000 [00:10<00:12, 44.1it/s, loss=0.41]", optionally after "Epoch 3: " (Lightning). */
  private static final Pattern TQDM = Pattern.compile("(\\d{1,3})%\\|[^|]*\\|\\s*(\\d+)/(\\d+)\\s*(?:\\[([^\\]]*)\\])?");
  /** Lightning's bar prefix: "Epoch 3:" (zero-based, no total). */
  private static final Pattern LIGHTNING_EPOCH = Pattern.compile("^\\s*Epoch\\s+(\\d+)\\s*:");
  /** Keras batch line: "469/469 [====...] - 3s 6ms/step - loss: 0.41" or Keras 3 "469/469 ━━━ 3s 6ms/step - loss: 0.41". */
  private static final Pattern KERAS_BATCH = Pattern.compile("^\\s*(\\d+)/(\\d+)\\s+(?:\\[[=>.]*\\]|[━─\\u2501\\u2500]+)");
  /** Keras metrics: " - loss: 0.4123 - accuracy: 0.8610". */
  private static final Pattern KERAS_METRIC = Pattern.compile("\\s-\\s([A-Za-z_][\\w]*):\\s*(" + NUM + ")");
  /** tqdm/Lightning postfix: "loss=0.41". */
  private static final Pattern POSTFIX_METRIC = Pattern.compile("([A-Za-z_][\\w]*)=(" + NUM + ")");
  /** Hugging Face Trainer: "{'loss': 0.41, 'learning_rate': 5e-05, 'epoch': 1.5}". */
  private static final Pattern HF_DICT = Pattern.compile("^\\s*\\{\\s*'[A-Za-z_]\\w*'\\s*:\\s*" + NUM + ".*}\\s*$");
  private static final Pattern HF_ENTRY = Pattern.compile("'([A-Za-z_]\\w*)'\\s*:\\s*(" + NUM + ")");

  /** The latest progress the lines show, or an empty map when they show none. */
  public static Map<String, Object> parse(List<String> lines) {
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, Double> metrics = new LinkedHashMap<>();
    boolean haveSteps = false;
    boolean haveEpochs = false;
    boolean haveMetrics = false;
    Integer batch = null;
    Integer batches = null;
    for (int i = lines.size() - 1; i >= 0; i--) {
      String line = lines.get(i);
      if (!haveMetrics) {
        haveMetrics = metrics(line, metrics);
      }
      Matcher tqdm = TQDM.matcher(line);
      if (tqdm.find()) {
        Matcher lightning = LIGHTNING_EPOCH.matcher(line);
        if (lightning.find()) {
          // Lightning: the bar is one epoch's; the epoch is zero-based and has no total
          if (!haveEpochs) {
            int total = Integer.parseInt(tqdm.group(3));
            double within = total == 0 ? 0 : Double.parseDouble(tqdm.group(2)) / total;
            out.put("epoch", Integer.parseInt(lightning.group(1)) + within);
            haveEpochs = true;
          }
        } else if (!haveSteps) {
          out.put("percent", Double.parseDouble(tqdm.group(1)));
          out.put("step", Long.parseLong(tqdm.group(2)));
          out.put("steps", Long.parseLong(tqdm.group(3)));
          haveSteps = true;
        }
        continue;
      }
      Matcher kerasBatch = KERAS_BATCH.matcher(line);
      if (kerasBatch.find() && batch == null && !haveEpochs) {
        batch = Integer.parseInt(kerasBatch.group(1));
        batches = Integer.parseInt(kerasBatch.group(2));
        continue;
      }
      Matcher epoch = EPOCH_OF.matcher(line);
      if (epoch.find() && !haveEpochs) {
        int n = Integer.parseInt(epoch.group(1));
        int total = Integer.parseInt(epoch.group(2));
        // Keras prints "Epoch 3/10" before the epoch's batches: 3 of 10 is done only when its batches are
        double done = batch != null && batches != null && batches > 0 ? n - 1 + (double) batch / batches : n;
        out.put("epoch", done);
        out.put("epochs", total);
        haveEpochs = true;
      }
      Matcher step = STEP_OF.matcher(line);
      if (step.find() && !haveSteps) {
        out.put("step", Long.parseLong(step.group(1)));
        out.put("steps", Long.parseLong(step.group(2)));
        haveSteps = true;
      }
      if (haveSteps && haveEpochs && haveMetrics) {
        break;
      }
    }
    metrics.forEach(out::putIfAbsent);
    return out;
  }

  /** Metrics printed on one line, in any of the known shapes; true if the line had some. */
  private static boolean metrics(String line, Map<String, Double> into) {
    Pattern pattern;
    if (HF_DICT.matcher(line).matches()) {
      pattern = HF_ENTRY;
    } else if (TQDM.matcher(line).find()) {
      Matcher m = TQDM.matcher(line);
      m.find();
      String postfix = m.group(4);
      return postfix != null && collect(POSTFIX_METRIC.matcher(postfix), into);
    } else if (KERAS_METRIC.matcher(line).find()) {
      pattern = KERAS_METRIC;
    } else {
      return false;
    }
    return collect(pattern.matcher(line), into);
  }

  private static boolean collect(Matcher m, Map<String, Double> into) {
    boolean any = false;
    while (m.find()) {
      String key = m.group(1);
      if (key.equals("v_num") || key.equals("it") || key.equals("s")) {
        continue; // Lightning's version number, tqdm's rate units: not metrics
      }
      into.put(key, Double.parseDouble(m.group(2)));
      any = true;
    }
    return any;
  }
}
