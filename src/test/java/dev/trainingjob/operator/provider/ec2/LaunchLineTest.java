package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.support.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;

/** Launches take turns: one at once, then each told when its RunInstances token comes back. */
class LaunchLineTest {
  final TestClock clock = new TestClock(Instant.parse("2026-11-27T10:00:00Z"));
  final Ec2Pacing pacing = new Ec2Pacing(Ec2ApiLimits.AWS_DEFAULTS, clock, new SimpleMeterRegistry());
  final LaunchLine line = new LaunchLine(pacing, clock);

  @Test
  void aBurstIsSpreadByPlaceInLineAtTwoLaunchesASecond() {
    assertThat(line.take("a")).isEqualTo(new LaunchLine.Turn(true, 0, Duration.ZERO));
    assertThat(line.take("b")).isEqualTo(new LaunchLine.Turn(false, 0, Duration.ofMillis(500)));
    assertThat(line.take("c")).isEqualTo(new LaunchLine.Turn(false, 1, Duration.ofSeconds(1)));
    assertThat(line.take("d")).isEqualTo(new LaunchLine.Turn(false, 2, Duration.ofMillis(1500)));

    clock.advance(Duration.ofMillis(500));
    // c is early: b keeps its place
    assertThat(line.take("c").now()).isFalse();
    assertThat(line.take("b").now()).isTrue();
    clock.advance(Duration.ofMillis(500));
    assertThat(line.take("c").now()).isTrue();
    assertThat(line.size()).isEqualTo(1);
  }

  @Test
  void noTurnIsGivenWhileLaunchesThatCameToEc2TogetherStillWaitToGoOut() {
    RunInstancesRequest one = RunInstancesRequest.builder().minCount(1).maxCount(1).build();
    assertThat(line.take("a").now()).isTrue();
    clock.advance(Duration.ofMillis(500));
    assertThat(line.take("b").now()).isTrue();
    clock.advance(Duration.ofMillis(500));
    assertThat(line.take("c").now()).isTrue();
    // their security groups took long: all three reach RunInstances together, and go out half a second apart
    clock.advance(Duration.ofMillis(200));
    assertThat(pacing.reserve("RunInstances", one)).isZero();
    assertThat(pacing.reserve("RunInstances", one)).isEqualTo(Duration.ofMillis(500));
    assertThat(pacing.reserve("RunInstances", one)).isEqualTo(Duration.ofSeconds(1));
    clock.advance(Duration.ofMillis(300));
    assertThat(line.take("d")).as("d's turn came, but c's call goes out only in 0.7s").isEqualTo(new LaunchLine.Turn(false, 0,
        Duration.ofMillis(700)));
    clock.advance(Duration.ofMillis(700));
    assertThat(line.take("d").now()).isTrue();
  }

  @Test
  void aLaunchThatCallsAgainForAFallbackTypeDelaysTheTurnsAfterIt() {
    assertThat(line.take("a").now()).isTrue();
    line.anotherCall();
    assertThat(line.take("b")).isEqualTo(new LaunchLine.Turn(false, 0, Duration.ofSeconds(1)));
  }

  @Test
  void aJobThatDoesNotComeBackHoldsUpNoOneAndIsForgotten() {
    assertThat(line.take("a").now()).isTrue();
    assertThat(line.take("gone").pause()).isEqualTo(Duration.ofMillis(500));
    assertThat(line.take("c").ahead()).isEqualTo(1);
    clock.advance(Duration.ofMillis(500).plus(LaunchLine.LATE).plusMillis(1));
    assertThat(line.take("c")).isEqualTo(new LaunchLine.Turn(true, 0, Duration.ZERO));
    clock.advance(LaunchLine.FORGET);
    line.take("d");
    assertThat(line.size()).as("gone was forgotten, and d launched").isZero();
  }
}
