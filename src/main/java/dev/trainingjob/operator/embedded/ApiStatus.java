package dev.trainingjob.operator.embedded;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.mockwebserver.http.MockResponse;

/** A Status object, as the API server writes its refusals. */
final class ApiStatus {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ApiStatus() {}

  static MockResponse of(int code, String reason, String message) {
    var status = JSON.createObjectNode().put("kind", "Status").put("apiVersion", "v1").put("status", "Failure")
        .put("message", message).put("reason", reason).put("code", code);
    status.putObject("metadata");
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(status.toString());
  }
}
