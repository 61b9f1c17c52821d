package dev.trainingjob.operator.provider.local;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.forward.StaticDecisionForwardingFilter;
import org.apache.sshd.server.shell.InvertedShellWrapper;
import org.apache.sshd.server.shell.ProcessShell;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * An SSH server on 127.0.0.1 that runs commands as the operator's own user: the machine of the
 * local provider. Each login user name gets its own home under the working root, so jobs keep
 * apart; SFTP sees only that home. Only keys added with {@link #authorize} may log in. A command's
 * environment is built from nothing, as sshd builds a login's: the operator's own (its kubeconfig
 * or service-account settings, its AWS credentials) never reaches a job.
 */
public final class LocalSshServer implements AutoCloseable {
  private final SshServer server;
  private final Path root;
  private final Set<PublicKey> authorized = ConcurrentHashMap.newKeySet();
  private final PublicKey hostKey;
  private final Map<String, String> env;
  private volatile String onlyUser;

  private static KeyPair generatedHostKey() throws IOException {
    try {
      return KeyUtils.generateKeyPair(KeyPairProvider.SSH_RSA, 2048); // an EC generator would need explicit initialisation
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("could not generate a host key", e);
    }
  }

  public LocalSshServer(Path root) throws IOException {
    this(root, InetAddress.getLoopbackAddress().getHostAddress(), 0, generatedHostKey(), Map.of());
  }

  /**
   * A server on a given address and port with a given host key; {@code env} is added to every
   * command's environment (PATH, say), which otherwise holds only HOME, PATH and LANG.
   */
  public LocalSshServer(Path root, String host, int port, KeyPair hostKeyPair, Map<String, String> env) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.env = Map.copyOf(env);
    Files.createDirectories(this.root);
    server = SshServer.setUpDefaultServer();
    server.setHost(host);
    server.setPort(port);
    hostKey = hostKeyPair.getPublic();
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKeyPair));
    server.setPublickeyAuthenticator((user, key, session) -> (onlyUser == null || onlyUser.equals(user))
        && authorized.stream().anyMatch(k -> KeyUtils.compareKeys(k, key)));
    server.setPasswordAuthenticator(null);
    server.setKeyboardInteractiveAuthenticator(null);
    server.setFileSystemFactory(new VirtualFileSystemFactory(this.root) {
      @Override
      public Path getUserHomeDir(SessionContext session) throws IOException {
        return home(session.getUsername());
      }
    });
    server.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
    server.setCommandFactory(new HomeCommandFactory());
    // `kubectl trainingjob tunnel` forwards to a port on the machine's loopback; nothing else is forwarded
    server.setForwardingFilter(new StaticDecisionForwardingFilter(false) {
      @Override
      public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
        return type == Type.Direct && SshdSocketAddress.isLoopback(address.getHostName());
      }
    });
    server.start();
  }

  public void authorize(PublicKey key) {
    authorized.add(key);
  }

  /** Lets only this user name log in, as a cloud image authorises one user. */
  public void restrictTo(String user) {
    onlyUser = user;
  }

  public int port() {
    return server.getPort();
  }

  public String host() {
    return server.getHost();
  }

  public PublicKey hostKey() {
    return hostKey;
  }

  /** The home of a login user: a directory of its own under the working root. */
  public Path home(String user) throws IOException {
    if (user == null || !user.matches("[A-Za-z0-9_.-]{1,64}") || user.startsWith(".")) {
      throw new IOException("unusable user name " + user);
    }
    Path home = root.resolve(user);
    Files.createDirectories(home);
    return home;
  }

  /**
   * What a command's environment holds besides {@code env}: HOME, and the operator's PATH and LANG (where to find python
   * and screen, and how to read text: no credential is in either). Nothing else of the operator's environment.
   */
  static Map<String, String> baseEnvironment(Path home) {
    Map<String, String> base = new LinkedHashMap<>();
    base.put("HOME", home.toString());
    base.put("PATH", Optional.ofNullable(System.getenv("PATH")).orElse("/usr/local/bin:/usr/bin:/bin"));
    base.put("LANG", Optional.ofNullable(System.getenv("LANG")).orElse("C.UTF-8"));
    return base;
  }

  /** Runs each command with /bin/sh in the login user's home, in an environment of its own (env -i). */
  private final class HomeCommandFactory implements CommandFactory {
    @Override
    public Command createCommand(ChannelSession channel, String command) throws IOException {
      Path home = home(channel.getSession().getUsername());
      Map<String, String> environment = baseEnvironment(home);
      environment.putAll(env);
      // -i: the process would inherit the operator's environment, and MINA adds what the client asked for on top
      List<String> argv = new ArrayList<>(List.of("/usr/bin/env", "-i"));
      environment.forEach((k, v) -> argv.add(k + "=" + v));
      argv.addAll(List.of("/bin/sh", "-c", "cd \"$HOME\" && exec /bin/sh -c \"$1\"", "sh", command));
      return new InvertedShellWrapper(new ProcessShell(argv));
    }
  }

  /** Closes every open connection, as a network drop would (the client must reconnect). */
  public void dropConnections() {
    server.getActiveSessions().forEach(s -> s.close(true));
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
  }
}
