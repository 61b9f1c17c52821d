package dev.trainingjob.operator.fake.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.provider.ec2.Ec2Clients;
import dev.trainingjob.operator.provider.ec2.Ec2Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;

/**
 * Spot as the fake has it, through the real SDK where EC2 is called: each instance's IMDSv2 (tokens, refusals, the
 * metadata the operator's driver reads).
 */
class FakeSpotTest {
  @TempDir
  Path tmp;
  FakeEc2 fake;
  Ec2Clients clients;
  Ec2Client ec2;
  /** Loopback only, and never through a proxy whatever the environment says. */
  final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();

  @BeforeEach
  void start() throws Exception {
    fake = new FakeEc2(tmp).delays(Duration.ofMillis(50), Duration.ofMillis(50));
    Ec2Settings.Builder b = Ec2Settings.builder();
    b.region = "us-east-1";
    b.endpoint = fake.endpoint();
    clients = Ec2Clients.create(b.build(), StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDFAKE", "fake")),
        new SimpleMeterRegistry());
    ec2 = clients.ec2();
  }

  @AfterEach
  void stop() {
    clients.close();
    fake.close();
  }

  // ---- IMDS

  @Test
  void processesOnAnInstanceFindItsOwnImdsInTheirEnvironment() throws Exception {
    String bootcmd = """
        printf '%s' "$TRAININGJOB_IMDS_URL" > imds-url
        t=$(curl --noproxy '*' -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$TRAININGJOB_IMDS_URL/latest/api/token")
        curl --noproxy '*' -sf -H "X-aws-ec2-metadata-token: $t" "$TRAININGJOB_IMDS_URL/latest/meta-data/instance-id" > seen-id
        """;
    String userData = encoded(cloudConfig(bootcmd));
    String id = running(launch(r -> r.userData(userData)));
    Path disk = tmp.resolve("instances").resolve(id);
    assertThat(disk.resolve("imds-url")).hasContent(fake.imdsUrl(id).toString());
    assertThat(fake.imdsUrl(id).toString()).matches("http://127\\.0\\.0\\.1:\\d+/" + Pattern.quote(id));
    assertThat(disk.resolve("seen-id")).hasContent(id);
  }

  @Test
  void imdsV2GivesTokensOnlyAsTheRealOneDoesAndServesNothingWithoutOne() throws Exception {
    String spot = running(launch(r -> r.instanceMarketOptions(m -> m.marketType("spot")).metadataOptions(m -> m.httpTokens("required"))));
    String other = running(launch(r -> r.metadataOptions(m -> m.httpTokens("required"))));

    // the token's PUT: a TTL from 1 to 21600 seconds, and never through a proxy
    assertThat(put(spot, Map.of()).statusCode()).isEqualTo(400);
    for (String ttl : List.of("0", "21601", "-5", "six hours", "")) {
      assertThat(put(spot, Map.of(FakeImds.TTL, ttl)).statusCode()).as("TTL '%s'", ttl).isEqualTo(400);
    }
    assertThat(put(spot, Map.of(FakeImds.TTL, "60", "X-Forwarded-For", "203.0.113.7")).statusCode()).isEqualTo(403);
    HttpResponse<String> issued = put(spot, Map.of(FakeImds.TTL, "21600"));
    assertThat(issued.statusCode()).isEqualTo(200);
    assertThat(issued.headers().firstValue(FakeImds.TTL)).hasValue("21600");
    String token = issued.body();
    assertThat(token).isNotBlank();

    // HttpTokens=required: no token, a made-up one, or another instance's is 401
    assertThat(get(spot, "/latest/meta-data/instance-id", null).statusCode()).isEqualTo(401);
    assertThat(get(spot, "/latest/meta-data/instance-id", "AQAEAmadeup==").statusCode()).isEqualTo(401);
    String othersToken = put(other, Map.of(FakeImds.TTL, "60")).body();
    assertThat(get(spot, "/latest/meta-data/instance-id", othersToken).statusCode()).isEqualTo(401);

    assertThat(get(spot, "/latest/meta-data/instance-id", token).body()).isEqualTo(spot);
    assertThat(get(spot, "/latest/meta-data/instance-life-cycle", token).body()).isEqualTo("spot");
    assertThat(get(other, "/latest/meta-data/instance-life-cycle", othersToken).body()).isEqualTo("on-demand");
    assertThat(get(spot, "/latest/meta-data/instance-type", token).body()).isEqualTo("g5.xlarge");
    assertThat(get(spot, "/latest/meta-data/", token).body().lines()).contains("instance-id", "instance-life-cycle");
    HttpResponse<String> noNotice = get(spot, "/latest/meta-data/spot/instance-action", token);
    assertThat(noNotice.statusCode()).isEqualTo(404);
    assertThat(noNotice.body()).contains("<title>404 - Not Found</title>");
    assertThat(get(spot, "/latest/meta-data/no-such-thing", token).statusCode()).isEqualTo(404);
    assertThat(get("i-0nosuchinstance", "/latest/meta-data/instance-id", token).statusCode()).isEqualTo(404);

    // a token lasts its TTL, and not longer
    String brief = put(spot, Map.of(FakeImds.TTL, "1")).body();
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
        .until(() -> get(spot, "/latest/meta-data/instance-id", brief).statusCode() == 401);
    assertThat(get(spot, "/latest/meta-data/instance-id", token).statusCode()).isEqualTo(200);
  }

  @Test
  void anInstanceThatAllowsImdsV1IsServedWithoutAToken() throws Exception {
    String v1 = running(launch(r -> r.metadataOptions(m -> m.httpTokens("optional"))));
    assertThat(get(v1, "/latest/meta-data/instance-id", null).body()).isEqualTo(v1);
    assertThat(get(v1, "/latest/meta-data/instance-id", "AQAEAmadeup==").statusCode()).as("a bad token is refused all the same")
        .isEqualTo(401);
    String off = running(launch(r -> r.metadataOptions(m -> m.httpEndpoint("disabled"))));
    assertThat(put(off, Map.of(FakeImds.TTL, "60")).statusCode()).isEqualTo(403);
  }

  // ---- helpers

  private static RunInstancesRequest request(Consumer<RunInstancesRequest.Builder> edit) {
    RunInstancesRequest.Builder b = RunInstancesRequest.builder().imageId(FakeEc2.UBUNTU_AMI).instanceType("g5.xlarge")
        .minCount(1).maxCount(1);
    edit.accept(b);
    return b.build();
  }

  private String launch(Consumer<RunInstancesRequest.Builder> edit) {
    return ec2.runInstances(request(edit)).instances().get(0).instanceId();
  }

  /** Waits until EC2 says it runs (which boots it), and returns it. */
  private String running(String id) {
    await().atMost(Duration.ofSeconds(30)).until(() -> "running".equals(one(id).state().nameAsString()));
    return id;
  }

  private Instance one(String id) {
    return ec2.describeInstances(r -> r.instanceIds(id)).reservations().get(0).instances().get(0);
  }

  /** A #cloud-config with just bootcmd. */
  private static String cloudConfig(String bootcmd) {
    StringBuilder y = new StringBuilder("#cloud-config\nbootcmd:\n  - |\n");
    bootcmd.lines().forEach(l -> y.append("    ").append(l).append('\n'));
    return y.toString();
  }

  private static String encoded(String userData) {
    return Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> put(String instanceId, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fake.imdsUrl(instanceId) + "/latest/api/token"))
        .PUT(HttpRequest.BodyPublishers.noBody());
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String instanceId, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fake.imdsUrl(instanceId) + path)).GET();
    if (token != null) {
      b.header(FakeImds.TOKEN, token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

}
