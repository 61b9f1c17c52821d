package dev.trainingjob.operator.provider.local;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ExistingMachines;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The operator's own machine, through its embedded SSH server on 127.0.0.1: the same SSH path as
 * every other provider. Each job logs in as its own user name and so gets its own home under the
 * working root; the host key is the server's own, so it is verified like any other.
 */
public final class LocalProvider implements ComputeProvider, AutoCloseable {
  private final LocalSshServer server;
  private final KeyPair key;
  private final RemoteHosts remoteHosts;
  private final Path outputRoot;
  private final Path keyFile;
  private final Path knownHosts;

  public LocalProvider(Path workRoot, Path outputRoot, RemoteHosts remoteHosts) throws IOException {
    this.outputRoot = outputRoot.toAbsolutePath();
    this.remoteHosts = remoteHosts;
    server = new LocalSshServer(workRoot.resolve("homes"));
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      key = g.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    server.authorize(key.getPublic());
    // the key and the host key on disk, so a person can run the attach command
    keyFile = workRoot.toAbsolutePath().resolve("id_operator");
    knownHosts = workRoot.toAbsolutePath().resolve("known_hosts");
    SshKeys.writePrivateKeyFile(keyFile, key, "trainingjob-operator");
    Files.writeString(knownHosts, SshKeys.knownHostsLine(server.host(), server.port(), server.hostKey()) + "\n");
  }

  @Override
  public String name() {
    return "local";
  }

  private static String user(TrainingJob job) {
    return "tj-" + job.getMetadata().getUid();
  }

  private Machine machine(TrainingJob job) {
    return new Machine("local/" + user(job), "local", Machine.State.RUNNING, server.host(), user(job),
        ExistingMachines.since(job), null);
  }

  @Override
  public Machine ensure(TrainingJob job) {
    return machine(job);
  }

  @Override
  public Optional<Machine> describe(TrainingJob job) {
    return Optional.of(machine(job));
  }

  @Override
  public SshTarget sshTarget(TrainingJob job, InstanceStatus instance) {
    return new SshTarget(server.host(), server.port(), user(job), key, server.hostKey(), false);
  }

  @Override
  public Optional<Path> outputDirectory(TrainingJob job) {
    return Optional.of(ExistingMachines.outputDirectory(outputRoot, job));
  }

  @Override
  public String attachCommand(TrainingJob job, InstanceStatus instance) {
    return "ssh -i " + keyFile + " -o UserKnownHostsFile=" + knownHosts + " -p " + server.port() + " " + user(job) + "@"
        + server.host() + " -t screen -r " + JobRef.of(job).sessionName();
  }

  @Override
  public boolean release(TrainingJob job) throws Exception {
    ExistingMachines.stopAndClean(remoteHosts, sshTarget(job, null), job);
    Path home = server.home(user(job));
    try (Stream<Path> files = Files.walk(home)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    return true;
  }

  /** The home of a job's user: where its job directory lives (tests look inside). */
  public Path home(TrainingJob job) throws IOException {
    return server.home(user(job));
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
