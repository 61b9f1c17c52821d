package dev.trainingjob.operator.provider.local;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.ComputeProvider;
import dev.trainingjob.operator.provider.ExistingMachines;
import dev.trainingjob.operator.provider.Machine;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.RemoteHosts;
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
 * working root; the host key is the server's own, so it is verified like any other. A job runs as
 * the operator's OS user, so the provider is opt-in (Assembly); its commands get an environment
 * built from nothing, not the operator's (LocalSshServer), and the working root is 0700 (LocalWorkRoot).
 */
public final class LocalProvider implements ComputeProvider, AutoCloseable {
  private final LocalSshServer server;
  private final RemoteHosts remoteHosts;
  private final Path outputRoot;
  private final LocalAccess access;

  public LocalProvider(Path workRoot, Path outputRoot, RemoteHosts remoteHosts) throws IOException {
    this.outputRoot = outputRoot.toAbsolutePath();
    this.remoteHosts = remoteHosts;
    Path root = LocalWorkRoot.prepare(workRoot);
    server = new LocalSshServer(root.resolve("homes"));
    KeyPair key;
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      key = g.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    server.authorize(key.getPublic());
    // on disk, so a person can run the attach command and the plugin can connect as the operator does
    try {
      access = LocalAccess.write(root, key, server);
    } catch (IOException e) {
      server.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return "local";
  }

  private static String user(TrainingJob job) {
    return LocalAccess.user(job);
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
  public MachineAccess access(TrainingJob job, InstanceStatus instance) {
    return access.access(job, instance);
  }

  @Override
  public boolean machinePerJob() {
    return false; // the machine stays; a suspended job keeps its directory on it
  }

  @Override
  public Optional<Path> outputDirectory(TrainingJob job) {
    return Optional.of(ExistingMachines.outputDirectory(outputRoot, job));
  }

  @Override
  public boolean release(TrainingJob job) throws Exception {
    ExistingMachines.stopAndClean(remoteHosts, access(job, null).target(), job);
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
