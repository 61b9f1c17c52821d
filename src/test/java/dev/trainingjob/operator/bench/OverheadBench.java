package dev.trainingjob.operator.bench;

import static org.awaitility.Awaitility.await;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.OperatorRuntime;
import dev.trainingjob.operator.api.ComputeSpec;
import dev.trainingjob.operator.api.ConditionType;
import dev.trainingjob.operator.api.OutputSpec;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.embedded.EmbeddedKubernetes;
import dev.trainingjob.operator.provider.host.HostProvider;
import dev.trainingjob.operator.status.Conditions;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.SshPeer;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's overhead against the manual recipe, issue 19 (d): the same 20 s script writing one small output file, on
 * the same loopback OpenSSH sshd, run by hand (OpenSSH's own {@code ssh} and {@code scp} processes, as a person's shell
 * script would) and by the operator (in process, on the embedded API, the host provider pointed at that sshd, the default
 * probe interval). Interleaved rounds after one warm-up round that is not counted: the manual recipe twice, with a new
 * connection for each command and over one multiplexed connection, then the operator, so the operator is compared with
 * both under the same load; the medians, their ratio, each pair, and where each side's time went. Run with {@code bench/overhead.sh} ({@code BENCH_PAIRS=N} for more rounds); reports,
 * asserts nothing.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class OverheadBench {
  private static final int PAIRS = Integer.getInteger("bench.pairs", 5);
  private static final String SCRIPT = """
      import time
      started = time.time()
      time.sleep(20)
      open('model.txt', 'w').write('started %r\\nexited %r\\n' % (started, time.time()))
      """;

  @TempDir
  Path tmp;
  private SshPeer.OpenSsh box;
  private Path key;
  private Path knownHosts;
  /**
   * The manual run now goes over one multiplexed connection (OpenSSH's ControlMaster, closed after the run): the careful
   * person's recipe, each command after the first without a new connection. Off: a new connection for each command.
   */
  private boolean mux;

  @Test
  void operatorAgainstTheManualRecipe() throws Exception {
    box = new SshPeer.OpenSsh(tmp.resolve("sshd"));
    ByteArrayOutputStream pem = new ByteArrayOutputStream();
    OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(box.clientKey, "bench", null, pem);
    key = tmp.resolve("id_bench");
    Files.write(key, pem.toByteArray());
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    knownHosts = tmp.resolve("known_hosts");
    Files.writeString(knownHosts, "[127.0.0.1]:" + box.target().port() + " " + PublicKeyEntry.toString(box.target().hostKey()) + "\n");
    try (EmbeddedKubernetes api = new EmbeddedKubernetes().start(0)) {
      api.client().secrets().inNamespace("default").resource(new SecretBuilder().withNewMetadata().withName("box-key").endMetadata()
          .withType("kubernetes.io/ssh-auth").addToStringData(HostProvider.KEY_FIELD, pem.toString(StandardCharsets.UTF_8)).build())
          .create();
      OperatorRuntime operator = Assembly.start(api.client(), OperatorConfig.defaults().with(c -> {
        c.defaultProvider = "local";
        c.localProvider = true;
        c.metricsPort = -1;
        c.outputDir = tmp.resolve("outputs");
        c.localWorkRoot = tmp.resolve("local");
      }));
      List<Run> manual = new ArrayList<>();
      List<Run> multiplexed = new ArrayList<>();
      List<Run> operated = new ArrayList<>();
      List<String> loads = new ArrayList<>();
      try {
        for (int i = 0; i <= PAIRS; i++) { // round 0 warms every side up and is not counted
          String load = loadAverage();
          mux = false;
          Run m = manual("manual-" + i);
          mux = true;
          Run x = manual("multiplexed-" + i);
          Run o = operator(api, "operator-" + i);
          if (i > 0) {
            manual.add(m);
            multiplexed.add(x);
            operated.add(o);
            loads.add(load + " / " + loadAverage());
          }
          System.out.printf("round %d%s: manual %.2f s, multiplexed %.2f s, operator %.2f s%n", i, i == 0 ? " (warm-up)" : "",
              m.wall(), x.wall(), o.wall());
        }
      } finally {
        operator.close();
        mux = false;
        ssh("rm -rf overhead-bench"); // the manual runs' parent directory in the login's home
        box.close();
      }
      String report = report("a new ssh or scp connection per command", manual, operated, loads)
          + "\n" + report("ssh and scp over one multiplexed connection per run (ControlMaster)", multiplexed, operated, loads);
      System.out.print(report);
      Files.writeString(Path.of("target", "bench-overhead.txt"), report);
    }
  }

  /** One run's wall time and its milestones, in seconds from its start, in order. */
  private record Run(double wall, Map<String, Double> at) {}

  // --- the manual recipe

  private Run manual(String name) throws Exception {
    String dir = "overhead-bench/" + name;
    Path script = tmp.resolve(name + ".py");
    Files.writeString(script, SCRIPT);
    Path back = tmp.resolve("manual-outputs").resolve(name);
    Files.createDirectories(back);
    Map<String, Double> at = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    double start = System.currentTimeMillis() / 1000.0;
    ssh("mkdir -p " + dir);
    at.put("first ssh (mkdir)", since(t0));
    scp(script.toString(), "root@127.0.0.1:" + dir + "/train.py");
    at.put("uploaded", since(t0));
    ssh("cd " + dir + " && screen -dmS " + name + " bash -c 'python3 train.py; echo $? > exit_code'");
    at.put("started (screen -dmS)", since(t0));
    // poll every second (a poll starts at each whole second from the start, whatever the last one took)
    long tick = System.nanoTime();
    while (ssh("test -f " + dir + "/exit_code") != 0) {
      tick += 1_000_000_000L;
      long wait = tick - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
    }
    at.put("exit noticed", since(t0));
    scp("root@127.0.0.1:" + dir + "/model.txt", back.toString() + "/");
    double wall = since(t0);
    at.put("output copied back", wall);
    addScriptTimes(at, Files.readString(back.resolve("model.txt")), start);
    ssh("rm -rf " + dir); // not timed
    if (mux) {
      List<String> exit = new ArrayList<>(List.of("ssh"));
      exit.addAll(options());
      exit.addAll(List.of("-p", Integer.toString(box.target().port()), "-O", "exit", "root@127.0.0.1"));
      run(exit);
    }
    return new Run(wall, sorted(at));
  }

  private int ssh(String command) throws Exception {
    List<String> argv = new ArrayList<>(List.of("ssh"));
    argv.addAll(options());
    argv.addAll(List.of("-p", Integer.toString(box.target().port()), "root@127.0.0.1", command));
    return run(argv);
  }

  private void scp(String from, String to) throws Exception {
    List<String> argv = new ArrayList<>(List.of("scp", "-q"));
    argv.addAll(options());
    argv.addAll(List.of("-P", Integer.toString(box.target().port()), from, to));
    if (run(argv) != 0) {
      throw new IllegalStateException("scp failed: " + argv);
    }
  }

  private List<String> options() {
    List<String> options = new ArrayList<>(List.of("-F", "/dev/null", "-i", key.toString(), "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "StrictHostKeyChecking=yes"));
    if (mux) {
      options.addAll(List.of("-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/overhead-bench-%C", "-o", "ControlPersist=120"));
    }
    return options;
  }

  private static int run(List<String> argv) throws Exception {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    if (code != 0 && code != 1) {
      throw new IllegalStateException(argv + " exited " + code + ": " + out);
    }
    return code;
  }

  // --- the operator

  private Run operator(EmbeddedKubernetes api, String name) throws Exception {
    TrainingJob job = Jobs.inline(name, "train.py", Map.of("train.py", SCRIPT));
    job.getSpec().compute = new ComputeSpec();
    var h = job.getSpec().compute.host = new ComputeSpec.HostSpec();
    h.address = "127.0.0.1";
    h.port = box.target().port();
    h.user = "root";
    h.privateKeySecret = "box-key";
    h.hostKey = PublicKeyEntry.toString(box.target().hostKey());
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.paths = List.of("model.txt");
    var jobs = api.client().resources(TrainingJob.class).inNamespace("default");
    Path output = tmp.resolve("outputs/default/" + name + "/model.txt");
    Map<Phase, Double> seen = new EnumMap<>(Phase.class);
    long t0 = System.nanoTime();
    double start = System.currentTimeMillis() / 1000.0;
    jobs.resource(job).create();
    TrainingJob[] last = new TrainingJob[1];
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(25)).until(() -> {
      TrainingJob j = jobs.withName(name).get();
      double now = since(t0);
      last[0] = j;
      if (j.getStatus() != null && j.getStatus().phase != null) {
        seen.putIfAbsent(j.getStatus().phase, now);
      }
      return j.getStatus() != null && j.getStatus().phase == Phase.Succeeded && Files.exists(output);
    });
    double wall = since(t0);
    var status = last[0].getStatus();
    Map<String, Double> at = new LinkedHashMap<>();
    Function<String, Double> rel = text -> text == null ? null : Instant.parse(text).toEpochMilli() / 1000.0 - start;
    put(at, "first ssh (status.timings.sshReady)", rel.apply(status.timings.sshReady));
    put(at, "started (status.startedAt)", rel.apply(status.startedAt));
    put(at, "Running seen", seen.get(Phase.Running));
    put(at, "exit noticed (status.timings.finished)", rel.apply(status.timings.finished));
    put(at, "Finishing seen", seen.get(Phase.Finishing));
    put(at, "output collected (its mtime)", Files.getLastModifiedTime(output).toMillis() / 1000.0 - start);
    var complete = Conditions.find(status, ConditionType.COMPLETE);
    put(at, "Succeeded decided (Complete condition)", complete == null ? null : rel.apply(complete.lastTransitionTime));
    put(at, "released (status.timings.released)", rel.apply(status.timings.released));
    put(at, "Succeeded seen, output present", wall);
    addScriptTimes(at, Files.readString(output), start);
    // the next pair starts once this job let the machine go (not timed)
    await().atMost(Duration.ofMinutes(2)).until(() -> Conditions.isTrue(jobs.withName(name).get().getStatus(), ConditionType.RELEASED));
    return new Run(wall, sorted(at));
  }

  // --- both

  private static void addScriptTimes(Map<String, Double> at, String model, double start) {
    for (String line : model.split("\n")) {
      String[] words = line.strip().split(" ");
      if (words.length == 2 && words[0].equals("started")) {
        at.put("script started", Double.parseDouble(words[1]) - start);
      } else if (words.length == 2 && words[0].equals("exited")) {
        at.put("script exited", Double.parseDouble(words[1]) - start);
      }
    }
  }

  private static void put(Map<String, Double> at, String what, Double when) {
    if (when != null) {
      at.put(what, when);
    }
  }

  private static Map<String, Double> sorted(Map<String, Double> at) {
    Map<String, Double> out = new LinkedHashMap<>();
    at.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  private static double since(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (Exception e) {
      return "?";
    }
  }

  private static double median(List<Double> xs) {
    List<Double> s = xs.stream().sorted().toList();
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  /** Seconds of one segment of a run: from milestone {@code from} (null: the run's start) to {@code to}. */
  private static double segment(Run r, String from, String to) {
    return r.at().get(to) - (from == null ? 0 : r.at().get(from));
  }

  private static String report(String recipe, List<Run> manual, List<Run> operated, List<String> loads) {
    StringBuilder out = new StringBuilder();
    out.append(String.format("overhead against the manual recipe (%s), %d interleaved pairs, probe interval %s%n", recipe,
        manual.size(), OperatorConfig.defaults().probeInterval()));
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < manual.size(); i++) {
      double r = operated.get(i).wall() / manual.get(i).wall();
      ratios.add(r);
      out.append(String.format("  pair %d: manual %.2f s, operator %.2f s, ratio %.3f (load %s)%n", i + 1, manual.get(i).wall(),
          operated.get(i).wall(), r, loads.get(i)));
    }
    double m = median(manual.stream().map(Run::wall).toList());
    double o = median(operated.stream().map(Run::wall).toList());
    out.append(String.format("median: manual %.2f s, operator %.2f s; ratio of medians %.3f; median of pair ratios %.3f%n", m, o,
        o / m, median(ratios)));
    out.append("segments, medians (s):           manual  operator  extra\n");
    String[][] segments = {
        {"start -> script started", null, "script started"},
        {"script running", "script started", "script exited"},
    };
    for (String[] s : segments) {
      double sm = median(manual.stream().map(r -> segment(r, s[1], s[2])).toList());
      double so = median(operated.stream().map(r -> segment(r, s[1], s[2])).toList());
      out.append(String.format("  %-30s %7.2f %9.2f %6.2f%n", s[0], sm, so, so - sm));
    }
    double em = median(manual.stream().map(r -> r.wall() - r.at().get("script exited")).toList());
    double eo = median(operated.stream().map(r -> r.wall() - r.at().get("script exited")).toList());
    out.append(String.format("  %-30s %7.2f %9.2f %6.2f%n", "script exited -> done", em, eo, eo - em));
    out.append("milestones, medians of seconds from the start:\n");
    milestones(out, "manual (" + recipe + ")", manual);
    milestones(out, "operator", operated);
    return out.toString();
  }

  private static void milestones(StringBuilder out, String side, List<Run> runs) {
    out.append("  ").append(side).append(":\n");
    for (String what : runs.get(0).at().keySet()) {
      List<Double> xs = runs.stream().map(r -> r.at().get(what)).filter(x -> x != null).toList();
      out.append(String.format("    %-40s %7.2f  (%s)%n", what, median(xs),
          String.join(" ", xs.stream().map(x -> String.format("%.2f", x)).toList())));
    }
  }
}
