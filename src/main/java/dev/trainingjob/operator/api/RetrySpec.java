package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import java.util.List;

/** When a script that exited with an error is run again. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RetrySpec {
  public static final int MAX_RETRIES = 100;
  public static final long DEFAULT_BACKOFF_SECONDS = 30;
  public static final long MAX_BACKOFF_SECONDS = 24 * 3600;

  @Min(0)
  @Max(MAX_RETRIES)
  @JsonPropertyDescription("How many times a script that exited with one of onExitCodes is run again (on the same machine when it is "
      + "still there, with its checkpoint directory intact). Default: 0.")
  public Integer maxRetries;

  @JsonPropertyDescription("The exit codes (1 to 255) that are retried; empty or absent: any code other than 0.")
  public List<Integer> onExitCodes;

  @Min(0)
  @Max(MAX_BACKOFF_SECONDS)
  @JsonPropertyDescription("Seconds to wait before a retry. Default: 30.")
  public Long backoffSeconds;

  public static int maxRetriesOf(RetrySpec r) {
    return r == null || r.maxRetries == null ? 0 : r.maxRetries;
  }

  public static long backoffOf(RetrySpec r) {
    return r == null || r.backoffSeconds == null ? DEFAULT_BACKOFF_SECONDS : r.backoffSeconds;
  }

  /** True when the policy retries a script that exited with {@code code}. */
  public static boolean retries(RetrySpec r, int code) {
    if (code == 0 || maxRetriesOf(r) == 0) {
      return false;
    }
    return r.onExitCodes == null || r.onExitCodes.isEmpty() || r.onExitCodes.contains(code);
  }
}
