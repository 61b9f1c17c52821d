package dev.trainingjob.operator.provider.local;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
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
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.forward.StaticDecisionForwardingFilter;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * An SSH server on 127.0.0.1 that runs commands as the operator's own user: the machine of the
 * local provider. Each login user name gets its own home under the working root, so jobs keep
 * apart; SFTP sees only that home. Only keys added with {@link #authorize} may log in. A command's
 * environment is built from nothing, as sshd builds a login's: the operator's own (its kubeconfig
 * or service-account settings, its AWS credentials) never reaches a job.
 */
public final class LocalSshServer implements AutoCloseable {
  /** The threads that copy commands' input and output (blocked on them while a command waits; see BlockingShellCommand). */
  private final java.util.concurrent.ExecutorService pumps = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "sshd-local-command");
    t.setDaemon(true);
    return t;
  });
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

  /**
   * Runs each command with /bin/sh in the login user's home, in an environment of its own (none of the operator's). A command
   * for which the client asked a terminal (ssh -t, as attach does) runs on a pseudo-terminal of its own, made by
   * util-linux's {@code script}: a Java process has only pipes, and screen refuses to attach without a terminal.
   */
  private final class HomeCommandFactory implements CommandFactory {
    @Override
    public Command createCommand(ChannelSession channel, String command) throws IOException {
      Path home = home(channel.getSession().getUsername());
      Map<String, String> environment = baseEnvironment(home);
      environment.putAll(env);
      Map<String, String> requested = channel.getEnvironment().getEnv();
      // a terminal request (pty-req) sets TERM (its modes can be empty: ssh -tt without a terminal of its own sends none)
      String term = requested.get(Environment.ENV_TERM);
      // the environment is the command's alone (the process would inherit the operator's, and MINA adds what the client
      // asked for on top); the process starts in the home, as sshd starts a login's shell: no env(1) and no second shell
      // in between (a job runs about nine commands; 150 jobs starting at once on two cores feel each process)
      List<String> argv;
      if (term == null) {
        argv = List.of("/bin/sh", "-c", command);
      } else {
        environment.put("TERM", term);
        environment.put("SHELL", "/bin/sh"); // the shell script(1) runs its -c text with
        environment.put(TERMINAL_LINES, sizeOr(requested.get(Environment.ENV_LINES), "24"));
        environment.put(TERMINAL_COLUMNS, sizeOr(requested.get(Environment.ENV_COLUMNS), "80"));
        environment.put(TERMINAL_COMMAND, command); // passed by the environment: no quoting of the command to get wrong
        // -q no banner, -f flush at once, -e its exit status is the command's; the typescript goes nowhere
        argv = List.of("/usr/bin/script", "-qfec", ON_A_TERMINAL, "/dev/null");
      }
      // the pseudo-terminal (or none) does what a terminal does: the channel passes bytes as they are
      return new BlockingShellCommand(argv, environment, home, term != null, pumps);
    }
  }

  private static final String TERMINAL_LINES = "TRAININGJOB_TERMINAL_LINES";
  private static final String TERMINAL_COLUMNS = "TRAININGJOB_TERMINAL_COLUMNS";
  private static final String TERMINAL_COMMAND = "TRAININGJOB_TERMINAL_COMMAND";

  /** What script(1) runs on its terminal: sized as the client's window, then the command, in the login user's home. */
  private static final String ON_A_TERMINAL = "stty rows \"$" + TERMINAL_LINES + "\" cols \"$" + TERMINAL_COLUMNS
      + "\" 2>/dev/null; c=\"$" + TERMINAL_COMMAND + "\"; unset " + TERMINAL_LINES + " " + TERMINAL_COLUMNS + " "
      + TERMINAL_COMMAND + "; cd \"$HOME\" && exec /bin/sh -c \"$c\"";

  /** A window size from the client, or the default when it sent none (or nonsense). */
  private static String sizeOr(String value, String otherwise) {
    return value != null && value.matches("[1-9][0-9]{0,3}") ? value : otherwise;
  }

  /** Closes every open connection, as a network drop would (the client must reconnect). */
  public void dropConnections() {
    server.getActiveSessions().forEach(s -> s.close(true));
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
    pumps.shutdown();
  }
}
