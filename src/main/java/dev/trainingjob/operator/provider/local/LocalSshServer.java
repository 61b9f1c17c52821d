package dev.trainingjob.operator.provider.local;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.shell.InvertedShellWrapper;
import org.apache.sshd.server.shell.ProcessShell;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * An SSH server on 127.0.0.1 that runs commands as the operator's own user: the machine of the
 * local provider. Each login user name gets its own home under the working root, so jobs keep
 * apart; SFTP sees only that home. Only keys added with {@link #authorize} may log in.
 */
public final class LocalSshServer implements AutoCloseable {
  private final SshServer server;
  private final Path root;
  private final Set<PublicKey> authorized = ConcurrentHashMap.newKeySet();
  private final PublicKey hostKey;

  public LocalSshServer(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    Files.createDirectories(this.root);
    server = SshServer.setUpDefaultServer();
    server.setHost(InetAddress.getLoopbackAddress().getHostAddress());
    server.setPort(0);
    SimpleGeneratorHostKeyProvider keys = new SimpleGeneratorHostKeyProvider();
    keys.setAlgorithm(KeyUtils.RSA_ALGORITHM); // an EC generator would need explicit initialisation
    keys.setKeySize(2048);
    List<KeyPair> pairs = keys.loadKeys(null);
    hostKey = pairs.get(0).getPublic();
    server.setKeyPairProvider(keys);
    server.setPublickeyAuthenticator((user, key, session) -> authorized.stream().anyMatch(k -> KeyUtils.compareKeys(k, key)));
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
    server.start();
  }

  public void authorize(PublicKey key) {
    authorized.add(key);
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

  /** Runs each command with /bin/sh in the login user's home, with HOME set to it. */
  private final class HomeCommandFactory implements CommandFactory {
    @Override
    public Command createCommand(ChannelSession channel, String command) throws IOException {
      Path home = home(channel.getSession().getUsername());
      return new InvertedShellWrapper(new ProcessShell(
          "/usr/bin/env", "HOME=" + home, "/bin/sh", "-c", "cd \"$HOME\" && exec /bin/sh -c \"$1\"", "sh", command));
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
