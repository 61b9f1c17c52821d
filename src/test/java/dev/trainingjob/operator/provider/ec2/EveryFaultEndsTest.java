package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.api.AccessSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.LimitsSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.ScriptSpec;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The money test: one operator, fifteen jobs, each meeting a fault that used to leave a job (and
 * often an instance) going for ever, and the operator killed and started again between a launch
 * and its first SSH. Every job ends in its phase and reason within its deadline (or waits in
 * Pending with nothing launched), and EC2 holds no instance that is not terminated.
 */
class EveryFaultEndsTest {
  /** Jobs that can only end at their pending deadline get a short one. */
  private static final long SHORT_PENDING = 20;

  @TempDir
  Path tmp;

  private record Expected(Phase phase, String reason) {}

  @Test
  void everyFaultEndsAndNothingIsLeftRunning() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (Ec2Harness h = new Ec2Harness(tmp);
        ServerSocket silentGit = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // a git server that accepts and never answers: the clone, and so the bootstrap, hangs
      Thread acceptor = new Thread(() -> {
        try {
          while (!silentGit.isClosed()) {
            held.add(silentGit.accept());
          }
        } catch (Exception closed) {
          // the test is over
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      h.fake.exhaustQuota("P");
      h.fake.failLaunches("m6i.large", 403, "UnauthorizedOperation",
          "You are not authorized to perform this operation. Encoded authorization failure message: Zm9v");
      h.fake.failLaunches("r5.large", 403, "AuthFailure.ServiceLinkedRoleCreationNotPermitted",
          "The provided credentials do not have permission to create the service-linked role for EC2 Spot Instances.");
      h.fake.failLaunches("t3.medium", 400, "Unsupported", "Your requested instance type (t3.medium) is not supported in your "
          + "requested Availability Zone (us-east-1e).");
      h.fake.terminateOnLaunch("c5.xlarge");
      h.fake.dropTagsOfTerminatedAfter(Duration.ZERO);
      h.fake.noCapacityFor("g6.xlarge");
      // the operator that is killed talks to the API with a client of its own, closed with it: a reconcile still under way
      // in it (an SSH timeout) then writes nothing after the new one took over, as a dead process would not
      KubernetesClient killedOperatorsClient = h.api.newClient();
      h.operatorClient = killedOperatorsClient;
      h.startOperator();

      Map<String, Expected> expected = new LinkedHashMap<>();
      Map<String, Long> pending = new LinkedHashMap<>();
      Consumer<TrainingJob> none = j -> { };
      create(h, expected, pending, "missing-secret", Phase.Failed, "PendingTimeout", SHORT_PENDING,
          j -> j.getSpec().env = List.of(Jobs.envFromSecret("TOKEN", "not-created-yet", "token")));
      create(h, expected, pending, "quota", Phase.Failed, "QuotaExceeded", 120, j -> ec2(j).instanceType = "p4d.24xlarge");
      create(h, expected, pending, "unknown-type", Phase.Failed, "InvalidSpec", 120, j -> ec2(j).instanceType = "g9.huge");
      create(h, expected, pending, "arch-mismatch", Phase.Failed, "InvalidSpec", 120, j -> ec2(j).instanceType = "g5g.xlarge");
      create(h, expected, pending, "small-volume", Phase.Failed, "InvalidSpec", 120, j -> {
        ec2(j).image = "dlami-pytorch";
        ec2(j).volumeSizeGiB = 20;
      });
      create(h, expected, pending, "unknown-subnet", Phase.Failed, "InvalidSpec", 120, j -> ec2(j).subnetId = "subnet-0nothere");
      create(h, expected, pending, "unauthorized", Phase.Failed, "Unauthorized", 120, j -> ec2(j).instanceType = "m6i.large");
      create(h, expected, pending, "spot-role", Phase.Failed, "SpotRoleMissing", 120, j -> {
        ec2(j).instanceType = "r5.large";
        ec2(j).spot = true;
      });
      create(h, expected, pending, "unsupported", Phase.Failed, "InvalidSpec", 120, j -> ec2(j).instanceType = "t3.medium");
      create(h, expected, pending, "no-capacity", Phase.Failed, "PendingTimeout", SHORT_PENDING, j -> ec2(j).instanceType = "g6.xlarge");
      create(h, expected, pending, "token-terminated", Phase.Succeeded, null, 120, j -> ec2(j).instanceType = "c5.xlarge");
      create(h, expected, pending, "overlapping-cidrs", Phase.Succeeded, null, 120, j -> {
        j.getSpec().access = new AccessSpec();
        j.getSpec().access.ports = List.of(6006, 6006);
        j.getSpec().access.allowedCidrs = List.of(Ec2Harness.OPERATOR_CIDR, "2001:db8::/64", Ec2Harness.OPERATOR_CIDR);
      });
      String longName = "long-" + "n".repeat(200);
      create(h, expected, pending, longName, Phase.Succeeded, null, 120, none);
      create(h, expected, pending, "bootstrap-hangs", Phase.Failed, "PendingTimeout", SHORT_PENDING, j -> {
        j.getSpec().script.git = new ScriptSpec.GitSource();
        j.getSpec().script.git.url = "http://127.0.0.1:" + silentGit.getLocalPort() + "/repo.git";
      });
      // the operator dies right after RunInstances answered, before status recorded the instance or
      // anyone logged in to it; a new one takes over and finds the instance by its tags
      CountDownLatch killed = new CountDownLatch(1);
      h.onProviderEvent = (reason, message) -> {
        if ("Launched".equals(reason) && message.contains("(g5.2xlarge,")) {
          h.onProviderEvent = (r, m) -> { };
          killed.countDown();
          throw new IllegalStateException("operator killed after RunInstances returned");
        }
      };
      create(h, expected, pending, "operator-killed", Phase.Succeeded, null, 120, j -> ec2(j).instanceType = "g5.2xlarge");
      assertThat(killed.await(60, TimeUnit.SECONDS)).as("the launch happened").isTrue();
      h.stopOperator();
      killedOperatorsClient.close();
      h.operatorClient = null;
      h.startOperator();

      await().atMost(Duration.ofSeconds(150)).until(() -> expected.keySet().stream().allMatch(name -> {
        TrainingJob j = h.get(name);
        return j.getStatus() != null && (j.getStatus().phase == Phase.Succeeded || j.getStatus().phase == Phase.Failed)
            && Conditions.isTrue(j.getStatus(), ConditionType.RELEASED);
      }));

      for (var e : expected.entrySet()) {
        TrainingJob j = h.get(e.getKey());
        assertThat(j.getStatus().phase).as(e.getKey() + ": " + j.getStatus().message).isEqualTo(e.getValue().phase());
        if (e.getValue().reason() != null) {
          assertThat(Conditions.find(j.getStatus(), ConditionType.FAILED).reason).as(e.getKey() + ": " + j.getStatus().message)
              .isEqualTo(e.getValue().reason());
        }
        // within its deadline: a job that can only end there ends there, not a reconcile storm later
        Instant created = Instant.parse(j.getMetadata().getCreationTimestamp());
        assertThat(Instant.parse(j.getStatus().finishedAt)).as(e.getKey())
            .isBefore(created.plusSeconds(pending.get(e.getKey())).plusSeconds(15));
      }
      // nothing was launched for the job that waited for its Secret
      String waited = h.get("missing-secret").getMetadata().getUid();
      assertThat(h.fake.requests("RunInstances")).noneMatch(r -> r.params().containsValue(waited));
      assertThat(h.get("token-terminated").getStatus().launch).isEqualTo(2);
      await().atMost(Duration.ofSeconds(30)).until(() -> h.fake.notTerminated().isEmpty());
      assertThat(h.fake.groups()).isEmpty();
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  private static dev.trainingjob.operator.api.ComputeSpec.Ec2Spec ec2(TrainingJob job) {
    return job.getSpec().compute.ec2;
  }

  private static void create(Ec2Harness h, Map<String, Expected> expected, Map<String, Long> pending, String name, Phase phase,
      String reason, long maxPendingSeconds, Consumer<TrainingJob> fault) {
    TrainingJob job = Ec2Harness.job(name, Ec2LifecycleTest.SCRIPT);
    job.getSpec().limits = new LimitsSpec();
    job.getSpec().limits.maxPendingSeconds = maxPendingSeconds;
    fault.accept(job);
    h.create(job);
    expected.put(name, new Expected(phase, reason));
    pending.put(name, maxPendingSeconds);
  }
}
