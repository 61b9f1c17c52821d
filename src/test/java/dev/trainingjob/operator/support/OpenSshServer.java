package dev.trainingjob.operator.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * A real OpenSSH sshd on 127.0.0.1, started by a test with its own configuration, host key and
 * authorized key; it logs in the user running the tests. The test command installs openssh-server.
 */
public final class OpenSshServer implements AutoCloseable {
  public static final Path SSHD = Path.of("/usr/sbin/sshd");
  private final Path dir;
  private final Process process;
  private final int port;
  private final PublicKey hostKey;

  public OpenSshServer(Path dir, KeyPair clientKey) throws Exception {
    this(dir, clientKey, List.of());
  }

  /** A server with more sshd_config lines (an older server's algorithms, say). */
  public OpenSshServer(Path dir, KeyPair clientKey, List<String> moreConfig) throws Exception {
    this.dir = dir;
    Files.createDirectories(dir);
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host_ed25519").toString());
    String line = Files.readString(dir.resolve("host_ed25519.pub")).strip();
    hostKey = AuthorizedKeyEntry.parseAuthorizedKeyEntry(line).resolvePublicKey(null, PublicKeyEntryResolver.IGNORING);
    Files.writeString(dir.resolve("authorized_keys"), PublicKeyEntry.toString(clientKey.getPublic()) + "\n");
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Files.writeString(dir.resolve("sshd_config"), String.join("\n",
        "Port " + port,
        "ListenAddress 127.0.0.1",
        "HostKey " + dir.resolve("host_ed25519"),
        "PidFile " + dir.resolve("sshd.pid"),
        "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
        "StrictModes no",
        "UsePAM no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "Subsystem sftp internal-sftp",
        "LogLevel ERROR",
        // bash reads ~/.bashrc for a command sshd runs when SHLVL says it is the first shell; this machine's root
        // .bashrc runs pyenv's init (0.7 s a command), where an image's returns at once for a non-interactive shell
        "SetEnv SHLVL=1",
        String.join("\n", moreConfig),
        "") );
    if ("root".equals(System.getProperty("user.name"))) {
      Files.createDirectories(Path.of("/run/sshd")); // privilege separation directory
    }
    process = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", dir.resolve("sshd_config").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("sshd.log").toFile()).start();
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
      if (!process.isAlive()) {
        throw new IllegalStateException("sshd exited: " + Files.readString(dir.resolve("sshd.log")));
      }
      try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return true;
      }
    });
  }

  public int port() {
    return port;
  }

  public PublicKey hostKey() {
    return hostKey;
  }

  /** Ends every connection this sshd serves (its per-connection children), as a network drop would. */
  public void dropConnections() throws Exception {
    run("pkill", "-TERM", "-P", Long.toString(process.pid()));
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    p.waitFor();
  }

  @Override
  public void close() {
    process.destroy();
  }
}
