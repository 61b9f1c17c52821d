package dev.trainingjob.operator.provider.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.security.auth.module.UnixSystem;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.support.Jobs;
import dev.trainingjob.operator.support.ScriptedRemoteHosts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's own machine as a provider: a job gets nothing of the operator's environment, and others get nothing of its files. */
class LocalProviderTest {
  @TempDir
  Path tmp;

  private LocalProvider provider(Path workRoot) throws IOException {
    return new LocalProvider(workRoot, tmp.resolve("outputs"), new ScriptedRemoteHosts());
  }

  private static TrainingJob job() {
    TrainingJob job = Jobs.simple("env");
    job.getMetadata().setUid(UUID.randomUUID().toString());
    return job;
  }

  /** Runs one command as the job's login, the way the operator reaches the machine. */
  private static String run(SshTarget target, String command) throws IOException {
    try (SshClient client = SshClient.setUpDefaultClient()) {
      client.setServerKeyVerifier((session, address, key) -> KeyUtils.compareKeys(key, target.hostKey()));
      client.start();
      try (ClientSession session = client.connect(target.user(), target.host(), target.port()).verify(Duration.ofSeconds(10))
          .getSession()) {
        session.addPublicKeyIdentity(target.key());
        session.auth().verify(Duration.ofSeconds(10));
        return session.executeRemoteCommand(command);
      }
    }
  }

  private static Map<String, String> environment(String envOutput) {
    Map<String, String> vars = new LinkedHashMap<>();
    envOutput.lines().filter(l -> l.indexOf('=') > 0).forEach(l -> vars.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
    return vars;
  }

  /**
   * What the operator has in its environment (a kubeconfig, a service-account setting, AWS credentials, whatever the
   * JVM was started with) is not in a job's: only HOME, PATH and LANG are, and what the shell sets itself.
   */
  @Test
  void aJobsCommandsGetAnEnvironmentBuiltFromNothing() throws Exception {
    Path root = tmp.resolve("work");
    TrainingJob job = job();
    try (LocalProvider local = provider(root)) {
      SshTarget target = local.access(job, null).target();
      Map<String, String> env = environment(run(target, "env"));
      assertThat(env.keySet()).as("the operator's environment has " + System.getenv().keySet())
          .containsAll(java.util.List.of("HOME", "PATH", "LANG"))
          .isSubsetOf("HOME", "PATH", "LANG", "PWD", "SHLVL", "_", "OLDPWD");
      assertThat(env).containsEntry("HOME", local.home(job).toString()).containsEntry("PATH", System.getenv("PATH"));
    }
  }

  @Test
  void theWorkRootIsMadeForTheOperatorsUserOnlyBeforeTheKeyGoesIntoIt() throws Exception {
    Path root = tmp.resolve("not/yet/there/work");
    try (LocalProvider local = provider(root)) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root))).isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(LocalAccess.KEY_FILE)))).isEqualTo("rw-------");
    }
    // the same root again (a restarted operator) is its own, and is used
    try (LocalProvider again = provider(root)) {
      assertThat(LocalAccess.read(root)).isNotNull();
    }
  }

  @Test
  void aWorkRootOthersCanEnterIsRefusedAndLeftAsItIs() throws Exception {
    Path open = Files.createDirectory(tmp.resolve("open"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThatThrownBy(() -> provider(open)).isInstanceOf(IOException.class).hasMessageContaining("has mode rwxr-xr-x, not rwx------");
    assertThat(open.resolve(LocalAccess.KEY_FILE)).doesNotExist();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(open))).isEqualTo("rwxr-xr-x");
  }

  @Test
  void aWorkRootThatIsALinkIsRefused() throws Exception {
    Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path link = Files.createSymbolicLink(tmp.resolve("link"), elsewhere);
    assertThatThrownBy(() -> provider(link)).isInstanceOf(IOException.class).hasMessageContaining("a symbolic link");
    assertThat(elsewhere.resolve(LocalAccess.KEY_FILE)).doesNotExist();
  }

  /** A directory someone else made first, at the name they expected the operator to use. */
  @Test
  void aWorkRootOfAnotherUserIsRefused() throws Exception {
    assumeTrue(new UnixSystem().getUid() == 0, "only root can make a directory that belongs to another user");
    Path theirs = Files.createDirectory(tmp.resolve("theirs"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.setAttribute(theirs, "unix:uid", 65534);
    assertThatThrownBy(() -> provider(theirs)).isInstanceOf(IOException.class).hasMessageContaining("belongs to user id 65534");
    assertThat(theirs.resolve(LocalAccess.KEY_FILE)).doesNotExist();
  }
}
