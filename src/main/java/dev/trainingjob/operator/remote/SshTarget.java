package dev.trainingjob.operator.remote;

import java.security.KeyPair;
import java.security.PublicKey;

/**
 * Everything needed to open an SSH session to a job's machine.
 *
 * @param host address to connect to
 * @param port SSH port
 * @param user login user
 * @param key the client key pair used to log in (never logged: see toString)
 * @param hostKey the server key to expect; null only when {@code acceptAnyHostKey} is set
 * @param acceptAnyHostKey true only for a provider that owns the server itself (local)
 */
public record SshTarget(String host, int port, String user, KeyPair key, PublicKey hostKey, boolean acceptAnyHostKey) {
  public SshTarget {
    if (hostKey == null && !acceptAnyHostKey) {
      throw new IllegalArgumentException("a host key is required to connect to " + host + ":" + port);
    }
  }

  @Override
  public String toString() {
    return user + "@" + host + ":" + port;
  }
}
