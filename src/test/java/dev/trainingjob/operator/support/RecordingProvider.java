package dev.trainingjob.operator.support;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.SshTarget;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A provider test double: machines come up after a few looks, release takes two calls; every call is recorded. */
public final class RecordingProvider implements ComputeProvider {
  public record Call(String method, String job) {}

  private final String name;
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> looks = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> releases = new ConcurrentHashMap<>();
  private final Map<String, Machine> machines = new ConcurrentHashMap<>();
  public volatile int looksBeforeRunning = 2;
  public volatile int releaseCallsNeeded = 2;
  /** When set, ensure throws it: a cloud that keeps answering with an error. */
  public volatile RuntimeException ensureFails;
  /** When set, describe says every machine is gone (terminated from outside). */
  public volatile boolean machinesGone = false;
  /** What a machine's launch time is read from (a test clock makes its cost follow the test's time). */
  public volatile java.time.Clock clock = java.time.Clock.systemUTC();
  /** The SSH port machines answer on (a closed one makes SSH never answer). */
  public volatile int sshPort = 22;

  /** False makes it a provider whose machines stay (as host and local): a suspended job keeps its directory there. */
  public volatile boolean machinePerJob = true;
  /** Told the uid of each job whose machine was released. */
  public volatile java.util.function.Consumer<String> onRelease;
  private final Map<String, AtomicInteger> launches = new ConcurrentHashMap<>();

  /** When false, nothing is recorded (a benchmark's thousands of jobs, whose calls nobody reads). */
  public volatile boolean recordCalls = true;

  private void record(Call call) {
    if (recordCalls) {
      calls.add(call);
    }
  }

  public RecordingProvider(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Machine ensure(TrainingJob job) {
    String uid = job.getMetadata().getUid();
    record(new Call("ensure", job.ref()));
    if (ensureFails != null) {
      throw ensureFails;
    }
    int seen = looks.computeIfAbsent(uid, k -> new AtomicInteger()).incrementAndGet();
    Machine.State state = seen >= looksBeforeRunning ? Machine.State.RUNNING : Machine.State.PENDING;
    if (!machines.containsKey(uid)) {
      launches.computeIfAbsent(uid, k -> new AtomicInteger()).incrementAndGet();
    }
    int launch = launches.get(uid).get();
    Machine m = new Machine("m-" + uid.substring(0, 8) + (launch > 1 ? "-" + launch : ""), "fake.large", state,
        state == Machine.State.RUNNING ? "127.0.0.1" : null, "trainer",
        clock.instant().toString(),
        state == Machine.State.PENDING ? "fake machine is booting" : null);
    machines.put(uid, m);
    return m;
  }

  @Override
  public Optional<Machine> describe(TrainingJob job) {
    record(new Call("describe", job.ref()));
    Machine m = machines.get(job.getMetadata().getUid());
    if (m != null && machinesGone) {
      return Optional.of(new Machine(m.id(), m.type(), Machine.State.GONE, null, m.sshUser(), m.launchedAt(), "terminated from outside"));
    }
    return Optional.ofNullable(m);
  }

  @Override
  public MachineAccess access(TrainingJob job, InstanceStatus instance) {
    record(new Call("access", job.ref()));
    return new MachineAccess(new SshTarget(instance.address, sshPort, instance.sshUser, null, null, true),
        "ssh " + instance.sshUser + "@" + instance.address + " -t screen -r x");
  }

  @Override
  public Optional<Path> outputDirectory(TrainingJob job) {
    return Optional.of(Path.of("/tmp/trainingjob-test-outputs", job.getMetadata().getUid()));
  }

  @Override
  public boolean release(TrainingJob job) {
    record(new Call("release", job.ref()));
    int n = releases.computeIfAbsent(job.getMetadata().getUid(), k -> new AtomicInteger()).incrementAndGet();
    if (n >= releaseCallsNeeded) {
      machines.remove(job.getMetadata().getUid());
      var hook = onRelease;
      if (hook != null) {
        hook.accept(job.getMetadata().getUid());
      }
      releases.remove(job.getMetadata().getUid());
      looks.remove(job.getMetadata().getUid());
      return true;
    }
    return false;
  }

  @Override
  public boolean machinePerJob() {
    return machinePerJob;
  }

  /** How many machines were made for the job. */
  public int launches(TrainingJob job) {
    var n = launches.get(job.getMetadata().getUid());
    return n == null ? 0 : n.get();
  }

  public List<Call> calls(String jobRef) {
    return calls.stream().filter(c -> c.job().equals(jobRef)).toList();
  }

  public long count(String jobRef, String method) {
    return calls(jobRef).stream().filter(c -> c.method().equals(method)).count();
  }
}
