package dev.trainingjob.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LogRedactorTest {
  @Test
  void secretValuesAndWhatLooksLikeCredentialsAreMasked() {
    List<String> out = LogRedactor.redact(List.of(
        "connecting with token s3cr3t-value-42 to the hub",
        "aws key AKIAIOSFODNN7EXAMPLE in use",
        "db password=hunter22 user=ml",
        "{\"api_key\": \"abcd1234\", \"epoch\": 3}",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload",
        "Epoch 3/10 - loss: 0.41 - id: 7"), List.of("s3cr3t-value-42", "7"));
    assertThat(String.join("\n", out)).doesNotContain("s3cr3t-value-42", "AKIAIOSFODNN7EXAMPLE", "hunter22", "abcd1234",
        "PRIVATE KEY", "eyJhbGciOiJIUzI1NiJ9");
    assertThat(out.get(2)).isEqualTo("db password=****** user=ml");
    // a one-character secret would mask every 7 in the log: values that short are left alone
    assertThat(out.get(6)).isEqualTo("Epoch 3/10 - loss: 0.41 - id: 7");
  }

  @Test
  void credentialsInAUrlAreMaskedAndTheRestKept() {
    assertThat(ProbeStatus.redacted("cloning https://oauth2:glpat-abcdef123456@git.example.com/team/repo.git", List.of()))
        .isEqualTo("cloning https://******@git.example.com/team/repo.git");
    assertThat(ProbeStatus.redacted("cloning https://git.example.com/team/repo.git", List.of()))
        .isEqualTo("cloning https://git.example.com/team/repo.git");
    assertThat(ProbeStatus.redacted(null, List.of())).isNull();
  }
}
