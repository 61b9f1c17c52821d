package dev.trainingjob.operator.provider.local;

import dev.trainingjob.operator.api.InstanceStatus;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.provider.MachineAccessResolver;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.MachineAccess;
import dev.trainingjob.operator.remote.SshTarget;
import dev.trainingjob.operator.remote.ssh.SshKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;

/**
 * How the local provider's jobs are reached: its embedded SSH server, as recorded in the working
 * root (the operator's key in id_operator, the server's address and host key in known_hosts). The
 * provider writes those files when its server starts; the plugin reads them back, so both follow
 * the server the running operator has, whatever port it got this time.
 */
public final class LocalAccess implements MachineAccessResolver {
  static final String KEY_FILE = "id_operator";
  static final String KNOWN_HOSTS = "known_hosts";

  private final Path keyFile;
  private final Path knownHosts;
  private final KeyPair key;
  private final String host;
  private final int port;
  private final PublicKey hostKey;

  LocalAccess(Path workRoot, KeyPair key, String host, int port, PublicKey hostKey) {
    this.keyFile = workRoot.toAbsolutePath().resolve(KEY_FILE);
    this.knownHosts = workRoot.toAbsolutePath().resolve(KNOWN_HOSTS);
    this.key = key;
    this.host = host;
    this.port = port;
    this.hostKey = hostKey;
  }

  /** Writes the files a person (and the plugin) reaches the server with, and resolves from them. */
  static LocalAccess write(Path workRoot, KeyPair key, LocalSshServer server) throws IOException {
    LocalAccess access = new LocalAccess(workRoot, key, server.host(), server.port(), server.hostKey());
    SshKeys.writePrivateKeyFile(access.keyFile, key, "trainingjob-operator");
    // whole or not at all: the plugin may read it while a restarted operator writes it
    Path partial = access.knownHosts.resolveSibling(KNOWN_HOSTS + ".partial");
    Files.writeString(partial, SshKeys.knownHostsLine(access.host, access.port, access.hostKey) + "\n");
    Files.move(partial, access.knownHosts, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return access;
  }

  /** What the operator whose working root this is wrote there. */
  public static LocalAccess read(Path workRoot) throws IOException {
    Path root = workRoot.toAbsolutePath();
    // a key and a host key from a root someone else made would lead to their server, trusted
    LocalWorkRoot.check(root);
    String line = Files.readString(root.resolve(KNOWN_HOSTS)).strip();
    String keyText = Files.readString(root.resolve(KEY_FILE));
    try {
      // the line is [host]:port key, or host key for port 22 (SshKeys.knownHostsLine)
      String address = line.substring(0, line.indexOf(' '));
      String host = address;
      int port = 22;
      if (address.startsWith("[")) {
        host = address.substring(1, address.indexOf("]:"));
        port = Integer.parseInt(address.substring(address.indexOf("]:") + 2));
      }
      return new LocalAccess(root, SshKeys.privateKey(keyText, KEY_FILE), host, port, SshKeys.knownHostsKey(line));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IOException(root + " does not hold a readable " + KEY_FILE + " and " + KNOWN_HOSTS, e);
    }
  }

  /** Each job logs in as a user of its own, and so gets a home of its own on the server. */
  static String user(TrainingJob job) {
    return "tj-" + job.getMetadata().getUid();
  }

  @Override
  public MachineAccess access(TrainingJob job, InstanceStatus instance) {
    return MachineAccess.of(new SshTarget(host, port, user(job), key, hostKey, false), JobRef.of(job),
        MachineAccess.KeyHint.files(keyFile, knownHosts));
  }
}
