package dev.trainingjob.operator.remote;

import java.security.KeyPair;
import java.security.PublicKey;

/**
 * Everything needed to open an SSH session to a job's machine. Two targets share a connection only
 * when everything here that authenticates is the same (see RemoteHosts).
 *
 * @param host address to connect to
 * @param port SSH port
 * @param user login user
 * @param key the client key pair used to log in (never logged: see toString)
 * @param hostKey the server key to expect; null only when {@code acceptAnyHostKey} is set
 * @param acceptAnyHostKey true only for a provider that owns the server itself (local)
 * @param nextHostKey a key the machine may present instead of {@code hostKey} while its provider replaces it (ec2
 *     records the new key before it installs it, so an operator restarted between the two still connects); null otherwise
 */
public record SshTarget(String host, int port, String user, KeyPair key, PublicKey hostKey, boolean acceptAnyHostKey,
    PublicKey nextHostKey) {
  public SshTarget {
    if (hostKey == null && !acceptAnyHostKey) {
      throw new IllegalArgumentException("a host key is required to connect to " + host + ":" + port);
    }
  }

  /** A target whose machine presents one host key. */
  public SshTarget(String host, int port, String user, KeyPair key, PublicKey hostKey, boolean acceptAnyHostKey) {
    this(host, port, user, key, hostKey, acceptAnyHostKey, null);
  }

  @Override
  public String toString() {
    return user + "@" + host + ":" + port;
  }
}
