package dev.trainingjob.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.support.Jobs;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Events written beside the reconciles: the caller never waits for the API, each job's in order, bounded when it lags. */
class BackgroundEventRecorderTest {

  private static TrainingJob job(String name, String uid) {
    TrainingJob job = Jobs.simple(name);
    job.getMetadata().setNamespace("default");
    job.getMetadata().setUid(uid);
    return job;
  }

  @Test
  void eachJobsEventsAreWrittenInTheOrderTheyWereRecorded() throws Exception {
    var api = new EmbeddedKubernetes().start(0);
    try (var events = new BackgroundEventRecorder(api.client(), 4, 100)) {
      for (int i = 0; i < 40; i++) {
        events.normal(job("a", "uid-a"), Reason.Launched, "a " + i);
        events.warning(job("b", "uid-b"), Reason.ScriptFailed, "b " + i);
      }
      assertThat(events.awaitWritten(Duration.ofSeconds(30))).isTrue();
      List<Event> written = new ArrayList<>(api.client().v1().events().inNamespace("default").list().getItems());
      written.sort(Comparator.comparingLong(e -> Long.parseLong(e.getMetadata().getResourceVersion())));
      assertThat(written.stream().filter(e -> e.getInvolvedObject().getName().equals("a")).map(Event::getMessage))
          .containsExactlyElementsOf(IntStream.range(0, 40).mapToObj(i -> "a " + i).toList());
      assertThat(written.stream().filter(e -> e.getInvolvedObject().getName().equals("b")).map(Event::getMessage))
          .containsExactlyElementsOf(IntStream.range(0, 40).mapToObj(i -> "b " + i).toList());
      assertThat(written).filteredOn(e -> e.getInvolvedObject().getName().equals("b"))
          .allSatisfy(e -> assertThat(e.getType()).isEqualTo("Warning"));
      assertThat(events.dropped()).isZero();
    } finally {
      api.close();
    }
  }

  /**
   * An API that takes connections and never answers: a synchronous recorder would hold the caller (a reconcile thread)
   * until the client's minute-long timeout; this one returns at once, and once its one writer and its queue are taken,
   * drops what comes next and counts it instead of queueing without end.
   */
  @Test
  void aCallerNeverWaitsForAnApiThatDoesNotAnswerAndWhatDoesNotFitIsDroppedAndCounted() throws Exception {
    try (var silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(silent.accept());
          }
        } catch (Exception closed) {
          // the test is over
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      KubernetesClient client = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
          .withMasterUrl("http://127.0.0.1:" + silent.getLocalPort()).withRequestTimeout(60_000).withConnectionTimeout(60_000)
          .withRequestRetryBackoffLimit(0).build()).build();
      var events = new BackgroundEventRecorder(client, 1, 2);
      try {
        events.normal(job("stuck", "uid-stuck"), Reason.Launched, "event 0");
        // the writer has it in hand once it connected to the API (which then never answers)
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !held.isEmpty());
        for (int i = 1; i < 10; i++) {
          events.normal(job("stuck", "uid-stuck"), Reason.Launched, "event " + i);
        }
        // one in the writer's hands, two queued, seven dropped: all of it decided without waiting for the API
        assertThat(events.dropped()).isEqualTo(7);
        assertThat(events.awaitWritten(Duration.ofMillis(200))).as("nothing can be written to this API").isFalse();
      } finally {
        client.close(); // the writer's request ends with the client, so close() does not wait out its timeout
        events.close();
        synchronized (held) {
          for (Socket s : held) {
            s.close();
          }
        }
      }
    }
  }

  @Test
  void closingWritesWhatWasQueued() throws Exception {
    var api = new EmbeddedKubernetes().start(0);
    try {
      var events = new BackgroundEventRecorder(api.client(), 2, 100);
      for (int i = 0; i < 20; i++) {
        events.normal(job("j" + i, "uid-" + i), Reason.Released, "released " + i);
      }
      events.close();
      assertThat(api.client().v1().events().inNamespace("default").list().getItems()).hasSize(20);
      events.normal(job("late", "uid-late"), Reason.Released, "after close");
      assertThat(events.dropped()).as("recorded after close: not written, counted").isEqualTo(1);
    } finally {
      api.close();
    }
  }
}
