package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "attach", mixinStandardHelpOptions = true,
    description = "Attaches this terminal to the job's screen session (detach again with Ctrl-A d), with OpenSSH's ssh.")
public final class AttachCommand extends MachineVerb {
  @Override
  int run(KubernetesClient client, JobAccess.Machine machine) throws Exception {
    Path dir = Files.createTempDirectory("trainingjob-attach",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try {
      Process ssh = new ProcessBuilder(sshCommand(machine, dir)).inheritIO().start();
      return ssh.waitFor();
    } catch (IOException e) {
      throw new PluginException("attach runs OpenSSH's ssh, which could not be started: " + e.getMessage());
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  /** The ssh command line, with the login key and the host key written (0600) into {@code dir}. */
  public static List<String> sshCommand(JobAccess.Machine machine, Path dir) throws Exception {
    var t = machine.target();
    Path key = dir.resolve("key");
    SshKeys.writePrivateKeyFile(key, t.key(), "trainingjob");
    Path knownHosts = dir.resolve("known_hosts");
    // made with its mode, then written: never a moment with more
    Files.createFile(knownHosts, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    String lines = SshKeys.knownHostsLine(t.host(), t.port(), t.hostKey()) + "\n";
    if (t.nextHostKey() != null) {
      // a host key replacement under way: the machine presents one or the other (see HostKeyRotation)
      lines += SshKeys.knownHostsLine(t.host(), t.port(), t.nextHostKey()) + "\n";
    }
    Files.writeString(knownHosts, lines);
    return MachineAccess.attachArgv(t.user(), t.host(), t.port(), machine.ref().sessionName(),
        MachineAccess.KeyHint.files(key, knownHosts));
  }
}
