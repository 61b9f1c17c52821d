package dev.trainingjob.operator.support;

import dev.trainingjob.operator.provider.local.LocalSshServer;
import dev.trainingjob.operator.remote.SshTarget;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;

/** An SSH server a test talks to over loopback: the in-process MINA one or a real OpenSSH sshd. */
public abstract class SshPeer implements AutoCloseable {
  public final KeyPair clientKey = rsa();

  /** The target as a provider would give it: with the server's real host key to verify. */
  public abstract SshTarget target();

  /** Same address and user, but expecting another host key. */
  public SshTarget targetExpecting(PublicKey wrongKey) {
    SshTarget t = target();
    return new SshTarget(t.host(), t.port(), t.user(), t.key(), wrongKey, false);
  }

  /** The login user's home on this machine's file system (the peers all run here). */
  public abstract Path home() throws Exception;

  public abstract void dropConnections() throws Exception;

  public static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static final class Mina extends SshPeer {
    public final LocalSshServer server;

    public Mina(Path root) throws Exception {
      server = new LocalSshServer(root);
      server.authorize(clientKey.getPublic());
    }

    /** A server whose commands also find {@code env} in their environment (a test hook such as TRAININGJOB_GUARD_ROOT). */
    public Mina(Path root, java.util.Map<String, String> env) throws Exception {
      server = new LocalSshServer(root, java.net.InetAddress.getLoopbackAddress().getHostAddress(), 0, rsa(), env);
      server.authorize(clientKey.getPublic());
    }

    @Override
    public SshTarget target() {
      return new SshTarget(server.host(), server.port(), "trainer", clientKey, server.hostKey(), false);
    }

    @Override
    public Path home() throws Exception {
      return server.home("trainer");
    }

    @Override
    public void dropConnections() throws Exception {
      server.dropConnections();
    }

    @Override
    public void close() throws Exception {
      server.close();
    }

    @Override
    public String toString() {
      return "MINA SSHD";
    }
  }

  public static final class OpenSsh extends SshPeer {
    private final OpenSshServer server;

    public OpenSsh(Path dir) throws Exception {
      server = new OpenSshServer(dir, clientKey);
    }

    /** A server with more sshd_config lines. */
    public OpenSsh(Path dir, java.util.List<String> moreConfig) throws Exception {
      server = new OpenSshServer(dir, clientKey, moreConfig);
    }

    @Override
    public SshTarget target() {
      return new SshTarget("127.0.0.1", server.port(), System.getProperty("user.name"), clientKey, server.hostKey(), false);
    }

    @Override
    public Path home() {
      return Path.of(System.getProperty("user.home"));
    }

    @Override
    public void dropConnections() throws Exception {
      server.dropConnections();
    }

    @Override
    public void close() {
      server.close();
    }

    @Override
    public String toString() {
      return "OpenSSH sshd";
    }
  }
}
