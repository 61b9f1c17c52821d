package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The operator's copy of a job's log tail, fed by probes that send only what is new to it. */
class LogWindowTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void probesThatGoOnFromTheEndAddWhatIsNewAndOverlapsAreAddedOnce() {
    LogWindow w = new LogWindow(1024);
    assertThat(w.asked()).isEqualTo(LogWindow.Asked.TAIL);
    assertThat(w.add(w.asked(), 0L, "7", b("one\n"))).isEqualTo("one\n");
    LogWindow.Asked at4 = w.asked();
    assertThat(at4.args()).isEqualTo(" 4 7");

    // a probe and a wait on the machine, both asked from 4: the second brings the same bytes and some more
    assertThat(w.add(at4, 4L, "7", b("two\n"))).isEqualTo("one\ntwo\n");
    assertThat(w.add(at4, 4L, "7", b("two\nthree\n"))).isEqualTo("one\ntwo\nthree\n");
    assertThat(w.add(at4, 4L, "7", b("two\n"))).as("nothing new").isEqualTo("one\ntwo\nthree\n");
    assertThat(w.asked().from()).isEqualTo(14);
  }

  @Test
  void aTailReplacesTheWindowAndTheWindowKeepsItsLastBytes() {
    LogWindow w = new LogWindow(8);
    w.add(w.asked(), 0L, "7", b("abcd"));
    // more was new than a probe sends, or the file is shorter than asked: the probe sent its tail
    assertThat(w.add(w.asked(), 100L, "7", b("wxyz"))).isEqualTo("wxyz");
    assertThat(w.asked().from()).isEqualTo(104);
    assertThat(w.add(w.asked(), 104L, "7", b("123456"))).as("the last 8 bytes").isEqualTo("yz123456");
    assertThat(w.add(w.asked(), 0L, "9", b("new run"))).as("another file").isEqualTo("new run");
  }

  @Test
  void aProbeOfAnOlderOperatorSendsTheTailEveryTime() {
    LogWindow w = new LogWindow(1024);
    assertThat(w.add(w.asked(), null, "", b("tail\n"))).isEqualTo("tail\n");
    assertThat(w.asked()).as("its place in the file is not known: ask for the tail").isEqualTo(LogWindow.Asked.TAIL);
  }
}
