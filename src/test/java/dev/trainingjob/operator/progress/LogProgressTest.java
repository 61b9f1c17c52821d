package dev.trainingjob.operator.progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainingjob.operator.remote.ssh.ProbeParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Progress from the output of the tools people train with, on fixtures in their real formats. */
class LogProgressTest {
  /** A fixture as the probe hands it over: the terminal's view of the log (carriage returns redraw). */
  private static Map<String, Object> parse(String fixture) throws Exception {
    String log = Files.readString(Path.of("src/test/resources/progress", fixture), StandardCharsets.UTF_8);
    return LogProgress.parse(ProbeParser.lines(log));
  }

  private static double num(Map<String, Object> record, String key) {
    return ((Number) record.get(key)).doubleValue();
  }

  @Test
  void kerasEpochsBatchesAndMetrics() throws Exception {
    Map<String, Object> r = parse("keras.log");
    assertThat(num(r, "epochs")).isEqualTo(10);
    assertThat(num(r, "epoch")).isCloseTo(2 + 312.0 / 469, within(1e-9)); // in epoch 3, two thirds through
    assertThat(r).containsEntry("loss", 0.4123).containsEntry("accuracy", 0.8610).doesNotContainKey("val_loss");
  }

  @Test
  void keras3ProgressBarsWithRedraws() throws Exception {
    Map<String, Object> r = parse("keras3.log");
    assertThat(num(r, "epochs")).isEqualTo(5);
    assertThat(num(r, "epoch")).isCloseTo(1 + 13.0 / 938, within(1e-9));
    assertThat(r).containsEntry("loss", 0.1623).containsEntry("accuracy", 0.9519);
  }

  @Test
  void tqdmBarTheLatestRedrawWins() throws Exception {
    Map<String, Object> r = parse("tqdm.log");
    assertThat(r).containsEntry("percent", 45.0).containsEntry("step", 450L).containsEntry("steps", 1000L)
        .containsEntry("loss", 0.412).containsEntry("lr", 0.001);
  }

  @Test
  void lightningEpochsAreZeroBasedAndTheBarIsOneEpochs() throws Exception {
    Map<String, Object> r = parse("lightning.log");
    assertThat(num(r, "epoch")).isCloseTo(3.45, within(1e-9));
    assertThat(r).doesNotContainKeys("percent", "epochs", "v_num")
        .containsEntry("train_loss", 0.410).containsEntry("val_acc", 0.871);
  }

  @Test
  void huggingFaceTrainerLogDictionariesAndItsStepBar() throws Exception {
    Map<String, Object> r = parse("hf-trainer.log");
    assertThat(r).containsEntry("loss", 0.4102).containsEntry("learning_rate", 3.9336e-05).containsEntry("epoch", 0.64)
        .containsEntry("step", 1000L).containsEntry("steps", 4689L).containsEntry("percent", 21.0);
  }

  @Test
  void plainStepLines() throws Exception {
    assertThat(parse("plain.log")).containsEntry("step", 120L).containsEntry("steps", 1000L);
  }

  @Test
  void outputWithoutProgressGivesNothing() {
    assertThat(LogProgress.parse(List.of("hello", "loading 3 files", "Traceback (most recent call last):"))).isEmpty();
  }
}
