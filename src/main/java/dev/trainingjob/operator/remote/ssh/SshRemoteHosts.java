package dev.trainingjob.operator.remote.ssh;

import dev.trainingjob.operator.remote.HostKeyMismatchException;
import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.RemoteSettings;
import dev.trainingjob.operator.remote.SshTarget;
import java.io.IOException;
import java.net.SocketAddress;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.core.CoreModuleProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SSH connection per machine, kept and reused across probes and reopened when it drops.
 * Host keys are checked against the key the provider supplies; a mismatch refuses the connection.
 */
public final class SshRemoteHosts implements RemoteHosts {
  private static final Logger LOG = LoggerFactory.getLogger(SshRemoteHosts.class);
  static final AttributeRepository.AttributeKey<SshTarget> TARGET = new AttributeRepository.AttributeKey<>();

  private final SshClient client;
  private final RemoteSettings settings;
  private final Map<String, ClientSession> sessions = new ConcurrentHashMap<>();
  private final Map<String, String> mismatches = new ConcurrentHashMap<>();

  public SshRemoteHosts(RemoteSettings settings) {
    this.settings = settings;
    client = SshClient.setUpDefaultClient();
    // prefer the key types current OpenSSH servers have, so the expected key is the one offered
    client.setSignatureFactories(List.of(BuiltinSignatures.ed25519, BuiltinSignatures.nistp256, BuiltinSignatures.nistp384,
        BuiltinSignatures.nistp521, BuiltinSignatures.rsaSHA512, BuiltinSignatures.rsaSHA256));
    client.setServerKeyVerifier(this::verifyServerKey);
    CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, Duration.ofSeconds(30));
    client.start();
  }

  public RemoteSettings settings() {
    return settings;
  }

  private boolean verifyServerKey(ClientSession session, SocketAddress address, PublicKey presented) {
    SshTarget target = session.getConnectionContext() == null ? null : session.getConnectionContext().getAttribute(TARGET);
    if (target == null) {
      return false;
    }
    if (target.acceptAnyHostKey()) {
      return true;
    }
    if (KeyUtils.compareKeys(target.hostKey(), presented)) {
      mismatches.remove(target.toString());
      return true;
    }
    String message = "Refusing to connect to " + target.host() + ":" + target.port() + ": it presented host key "
        + KeyUtils.getFingerPrint(presented) + " (" + KeyUtils.getKeyType(presented) + "), but the expected key is "
        + KeyUtils.getFingerPrint(target.hostKey()) + " (" + KeyUtils.getKeyType(target.hostKey())
        + "). Either the machine was replaced or someone is in between.";
    mismatches.put(target.toString(), message);
    LOG.warn(message);
    return false;
  }

  @Override
  public RemoteHost connect(SshTarget target) throws HostUnreachableException, HostKeyMismatchException {
    session(target);
    return new SshRemoteHost(this, target);
  }

  /** The open session to the target, opening a new one when there is none or it dropped. */
  ClientSession session(SshTarget target) throws HostUnreachableException, HostKeyMismatchException {
    String key = target.toString();
    ClientSession existing = sessions.get(key);
    if (existing != null && existing.isOpen() && existing.isAuthenticated()) {
      return existing;
    }
    synchronized (this) {
      existing = sessions.get(key);
      if (existing != null && existing.isOpen() && existing.isAuthenticated()) {
        return existing;
      }
      if (existing != null) {
        closeQuietly(existing);
        sessions.remove(key);
      }
      ClientSession opened = open(target);
      sessions.put(key, opened);
      return opened;
    }
  }

  private ClientSession open(SshTarget target) throws HostUnreachableException, HostKeyMismatchException {
    String where = target.host() + ":" + target.port();
    ClientSession session = null;
    try {
      ConnectFuture future = client.connect(target.user(), target.host(), target.port(),
          AttributeRepository.ofKeyValuePair(TARGET, target));
      session = future.verify(settings.connectTimeout()).getSession();
      if (target.key() != null) {
        session.addPublicKeyIdentity(target.key());
      }
      session.auth().verify(settings.connectTimeout());
      LOG.info("connected to {}", target);
      return session;
    } catch (IOException | RuntimeException e) {
      if (session != null) {
        closeQuietly(session);
      }
      String mismatch = mismatches.get(target.toString());
      if (mismatch != null) {
        throw new HostKeyMismatchException(mismatch);
      }
      throw new HostUnreachableException(where, describe(e), e);
    }
  }

  /** A short reason: connection refused, timed out, authentication refused. */
  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    if (String.valueOf(e.getMessage()).contains("No more authentication methods")) {
      return "the login key was refused (it may not be installed yet)";
    }
    return text;
  }

  /** Forgets a session that failed mid-command, so the next use opens a new one. */
  void discard(SshTarget target, ClientSession session) {
    sessions.remove(target.toString(), session);
    closeQuietly(session);
  }

  private static void closeQuietly(ClientSession session) {
    try {
      session.close();
    } catch (IOException e) {
      LOG.debug("closing session: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    sessions.values().forEach(SshRemoteHosts::closeQuietly);
    sessions.clear();
    client.stop();
  }
}
