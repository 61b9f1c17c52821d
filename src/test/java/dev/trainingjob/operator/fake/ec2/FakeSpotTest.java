package dev.trainingjob.operator.fake.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.provider.ec2.Ec2Clients;
import dev.trainingjob.operator.provider.ec2.Ec2Settings;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeSpotPriceHistoryRequest;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.SpotPrice;

/**
 * Spot as the fake has it, through the real SDK where EC2 is called: each instance's IMDSv2 (tokens, refusals, the
 * metadata the operator's driver reads), an interruption that gives notice first and then terminates the instance
 * whether or not anyone calls EC2, and DescribeSpotPriceHistory with its paging and refusals.
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
    String userData = encoded(cloudConfig(null, bootcmd));
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

  // ---- spot interruption

  @Test
  void anInterruptionGivesNoticeFirstThenTerminatesTheInstanceWithNoEc2CallInBetween() throws Exception {
    KeyPair host = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    String bootcmd = "sleep 600 > /dev/null 2>&1 &\necho $! > sleeper.pid\n";
    String userData = encoded(cloudConfig(host, bootcmd));
    String id = running(launch(r -> r.instanceMarketOptions(m -> m.marketType("spot")).metadataOptions(m -> m.httpTokens("required"))
        .userData(userData)));
    FakeInstance instance = fake.instance(id);
    await().atMost(Duration.ofSeconds(30)).until(() -> sshdAnswers(instance));
    long sleeper = Long.parseLong(Files.readString(tmp.resolve("instances").resolve(id).resolve("sleeper.pid")).strip());
    assertThat(ProcessHandle.of(sleeper)).isPresent();
    String token = put(id, Map.of(FakeImds.TTL, "300")).body();
    assertThat(get(id, "/latest/meta-data/spot/instance-action", token).statusCode()).isEqualTo(404);

    Instant before = Instant.now();
    fake.interruptSpot(id, Duration.ofSeconds(4));
    Instant after = Instant.now();
    int calls = fake.requests().size();

    // the notice, at once, naming the second it is terminated
    HttpResponse<String> notice = get(id, "/latest/meta-data/spot/instance-action", token);
    assertThat(notice.statusCode()).isEqualTo(200);
    Matcher m = Pattern.compile("\\{\"action\": \"terminate\", \"time\": \"(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ)\"}")
        .matcher(notice.body());
    assertThat(m.matches()).as(notice.body()).isTrue();
    Instant announced = Instant.parse(m.group(1));
    assertThat(announced).isBetween(before.plusSeconds(4).truncatedTo(ChronoUnit.SECONDS), after.plusSeconds(4));
    assertThat(get(id, "/latest/meta-data/spot/termination-time", token).body()).isEqualTo(m.group(1));
    assertThat(instance.state()).isEqualTo("running");
    assertThat(instance.spotNoticeAt()).isBetween(before, after);

    // then EC2 takes it back on its own: sshd and every process go
    await().atMost(Duration.ofSeconds(60)).until(() -> !sshdAnswers(instance));
    assertThat(Instant.now()).isAfterOrEqualTo(before.plusSeconds(4));
    await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(sleeper).isEmpty());
    // its processes end first, then EC2 writes the state down
    await().atMost(Duration.ofSeconds(30)).until(() -> !"running".equals(instance.state()));
    assertThat(instance.state()).isEqualTo("shutting-down");
    assertThat(instance.stateReason()).isEqualTo("Server.SpotInstanceTermination");
    assertThat(fake.requests()).as("nobody called EC2 meanwhile").hasSize(calls);

    Instance seen = one(id);
    assertThat(seen.stateReason().code()).isEqualTo("Server.SpotInstanceTermination");
    assertThat(seen.stateReason().message()).isEqualTo("Server.SpotInstanceTermination: Spot instance termination");
    await().atMost(Duration.ofSeconds(10)).until(() -> "terminated".equals(one(id).state().nameAsString()));
    assertThat(get(id, "/latest/meta-data/instance-id", token).statusCode()).isEqualTo(404);
    assertThatThrownBy(() -> fake.interruptSpot(id, Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("terminated");
  }

  @Test
  void onlyARunningSpotInstanceIsInterruptedAndOnlyOnce() throws Exception {
    String onDemand = running(launch(r -> { }));
    assertThatThrownBy(() -> fake.interruptSpot(onDemand, Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("on-demand");
    assertThatThrownBy(() -> fake.interruptSpot("i-0nosuchinstance", Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("unknown");
    String spot = running(launch(r -> r.instanceMarketOptions(m -> m.marketType("spot"))));
    fake.interruptSpot(spot, FakeEc2.SPOT_NOTICE);
    assertThatThrownBy(() -> fake.interruptSpot(spot, Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already");
    assertThat(one(spot).state().nameAsString()).as("two minutes' notice: still running").isEqualTo("running");

    fake.delays(Duration.ofHours(1), Duration.ofMillis(50));
    String pending = launch(r -> r.instanceMarketOptions(m -> m.marketType("spot")));
    assertThatThrownBy(() -> fake.interruptSpot(pending, Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("pending");
    assertThat(fake.instance(onDemand).spotNoticeAt()).isNull();
  }

  // ---- DescribeSpotPriceHistory

  @Test
  void currentPricesAreThoseInEffectNowForEachTypeZoneAndProduct() {
    List<SpotPrice> now = ec2.describeSpotPriceHistory(r -> r.instanceTypesWithStrings("g5.xlarge")
        .productDescriptions("Linux/UNIX")).spotPriceHistory();
    assertThat(now).extracting(SpotPrice::availabilityZone, SpotPrice::spotPrice)
        .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("us-east-1a", "0.382100"),
            org.assertj.core.groups.Tuple.tuple("us-east-1b", "0.401200"));
    assertThat(now).allSatisfy(p -> {
      assertThat(p.instanceTypeAsString()).isEqualTo("g5.xlarge");
      assertThat(p.productDescriptionAsString()).isEqualTo("Linux/UNIX");
      assertThat(p.timestamp()).isBefore(Instant.now().minus(Duration.ofMinutes(59)));
    });

    fake.setSpotPrice("g5.xlarge", "us-east-1a", "0.3999");
    assertThat(ec2.describeSpotPriceHistory(r -> r.instanceTypesWithStrings("g5.xlarge").availabilityZone("us-east-1a"))
        .spotPriceHistory()).extracting(SpotPrice::spotPrice).containsExactly("0.399900");
    assertThat(ec2.describeSpotPriceHistory(r -> r.instanceTypesWithStrings("g5.xlarge").productDescriptions("Windows"))
        .spotPriceHistory()).isEmpty();
    // every type the fake offers has a price in both zones
    assertThat(ec2.describeSpotPriceHistory(r -> r.productDescriptions("Linux/UNIX")).spotPriceHistory())
        .hasSize(FakeEc2.DEFAULT_SPOT_PRICES.size() * FakeEc2.ZONES.size());
  }

  @Test
  void aHistoryIsAnsweredNewestFirstWithThePriceInEffectAtTheStartAndPagedByNextToken() {
    Instant base = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofMinutes(60));
    for (int k = 0; k < 12; k++) {
      fake.addSpotPrice("g6.xlarge", "us-east-1a", "Linux/UNIX", "0.30" + String.format("%02d", k), base.plus(Duration.ofMinutes(5L * k)));
    }
    fake.addSpotPrice("g6.xlarge", "us-east-1b", "Linux/UNIX", "0.3500", base.plus(Duration.ofMinutes(30)));
    Consumer<DescribeSpotPriceHistoryRequest.Builder> window = r -> r.instanceTypesWithStrings("g6.xlarge")
        .availabilityZone("us-east-1a").startTime(base.plus(Duration.ofMinutes(22))).endTime(base.plus(Duration.ofMinutes(47)));

    List<SpotPrice> whole = ec2.describeSpotPriceHistory(window).spotPriceHistory();
    // 20 minutes in (in effect at the start) and 25 to 45 minutes in, newest first
    assertThat(whole).extracting(SpotPrice::spotPrice)
        .containsExactly("0.300900", "0.300800", "0.300700", "0.300600", "0.300500", "0.300400");
    assertThat(whole).extracting(SpotPrice::timestamp)
        .containsExactlyElementsOf(IntStream.of(9, 8, 7, 6, 5, 4).mapToObj(k -> base.plus(Duration.ofMinutes(5L * k))).toList());

    int before = fake.requests("DescribeSpotPriceHistory").size();
    List<SpotPrice> paged = ec2.describeSpotPriceHistoryPaginator(r -> window.accept(r.maxResults(2))).spotPriceHistory().stream()
        .limit(100).toList();
    assertThat(paged).isEqualTo(whole);
    List<FakeEc2.Request> pages = fake.requests("DescribeSpotPriceHistory");
    assertThat(pages).hasSize(before + 3);
    assertThat(pages.get(before).params()).doesNotContainKey("NextToken");
    assertThat(pages.get(before + 1).params()).containsKey("NextToken");
    assertThat(ec2.describeSpotPriceHistory(r -> window.accept(r.maxResults(6))).nextToken()).as("the last page's").isEmpty();

    // filters, wildcards included
    assertThat(ec2.describeSpotPriceHistory(r -> window.accept(r.filters(f -> f.name("spot-price").values("0.30?700", "0.3009*"))))
        .spotPriceHistory()).extracting(SpotPrice::spotPrice).containsExactly("0.300900", "0.300700");
    String at = base.plus(Duration.ofMinutes(30)).toString(); // ...T..:..:..Z
    assertThat(ec2.describeSpotPriceHistory(r -> r.instanceTypesWithStrings("g6.xlarge").startTime(base).endTime(base.plus(Duration.ofHours(1)))
        .filters(f -> f.name("timestamp").values(at), f -> f.name("availability-zone").values("us-east-1?"))).spotPriceHistory())
        .extracting(SpotPrice::availabilityZone, SpotPrice::spotPrice)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("us-east-1a", "0.300600"), org.assertj.core.groups.Tuple.tuple("us-east-1b", "0.350000"));
  }

  @Test
  void describeSpotPriceHistoryRefusesWhatEc2Refuses() throws Exception {
    refused(() -> ec2.describeSpotPriceHistory(r -> r.instanceTypesWithStrings("g5.xlarge", "g9.huge")), "InvalidParameterValue", "g9.huge");
    refused(() -> ec2.describeSpotPriceHistory(r -> r.maxResults(0)), "InvalidParameterValue", "between 1 and 1000");
    refused(() -> ec2.describeSpotPriceHistory(r -> r.maxResults(1001)), "InvalidParameterValue", "between 1 and 1000");
    refused(() -> ec2.describeSpotPriceHistory(r -> r.filters(f -> f.name("price").values("1"))), "InvalidParameterValue", "price");
    refused(() -> ec2.describeSpotPriceHistory(r -> r.nextToken("not-a-token")), "InvalidPaginationToken", "pagination token");
    assertThat(ec2.describeSpotPriceHistory(r -> r.maxResults(1)).spotPriceHistory()).hasSize(1);

    // a time the SDK would never send, straight to the endpoint
    HttpResponse<String> malformed = query("Action=DescribeSpotPriceHistory&Version=2016-11-15&StartTime=yesterday");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.body()).contains("<Code>InvalidParameterValue</Code>").contains("startTime");
    assertThat(query("Action=DescribeSpotPriceHistory&Version=2016-11-15&StartTime=2026-01-01T00%3A00%3A00&InstanceType.1=g5.xlarge")
        .statusCode()).as("a time without a zone is UTC").isEqualTo(200);
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

  /** A #cloud-config with bootcmd, and with a host key and a login key when {@code host} is given (then it runs sshd). */
  private static String cloudConfig(KeyPair host, String bootcmd) throws Exception {
    StringBuilder y = new StringBuilder("#cloud-config\n");
    if (host != null) {
      KeyPair login = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
      y.append("ssh_authorized_keys:\n  - ").append(SshKeys.publicLine(login.getPublic())).append('\n');
      y.append("ssh_keys:\n  ed25519_private: |\n");
      for (String line : SshKeys.privateText(host, "fake-spot-test").strip().split("\n")) {
        y.append("    ").append(line).append('\n');
      }
    }
    y.append("bootcmd:\n  - |\n");
    bootcmd.lines().forEach(l -> y.append("    ").append(l).append('\n'));
    return y.toString();
  }

  private static String encoded(String userData) {
    return Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8));
  }

  private boolean sshdAnswers(FakeInstance i) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(i.address, fake.sshPort()), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
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

  private HttpResponse<String> query(String form) throws Exception {
    return http.send(HttpRequest.newBuilder(fake.endpoint()).header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void refused(Runnable call, String code, String messagePart) {
    assertThatThrownBy(call::run).isInstanceOf(AwsServiceException.class).satisfies(e -> {
      AwsServiceException a = (AwsServiceException) e;
      assertThat(a.awsErrorDetails().errorCode()).isEqualTo(code);
      assertThat(a.statusCode()).isBetween(400, 499);
      assertThat(a.awsErrorDetails().errorMessage()).contains(messagePart);
    });
  }
}
