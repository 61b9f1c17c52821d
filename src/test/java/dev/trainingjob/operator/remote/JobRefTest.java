package dev.trainingjob.operator.remote;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobRefTest {
  @Test
  void theSessionNameStaysShortEnoughForScreenWhateverTheJobIsCalled() {
    JobRef longName = new JobRef("0f8c7d6e-1234-4abc-9def-001122334455", "default", "a".repeat(253));
    assertThat(longName.sessionName()).hasSizeLessThanOrEqualTo(3 + JobRef.MAX_NAME_IN_SESSION + 1 + 8)
        .startsWith("tj-aaaa").endsWith("-22334455");
    assertThat(new JobRef("0f8c7d6e-1234-4abc-9def-001122334455", "ns", "train/me").sessionName()).isEqualTo("tj-train-me-22334455");
  }
}
