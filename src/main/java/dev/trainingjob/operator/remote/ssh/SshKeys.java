package dev.trainingjob.operator.remote.ssh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * SSH keys in the text forms people and OpenSSH use: private keys in OpenSSH (or PEM) format,
 * public keys as in authorized_keys, host keys as known_hosts lines. Callers turn the exceptions
 * into their own messages, which name where a key came from and never its content.
 */
public final class SshKeys {
  private SshKeys() {}

  /** The first key pair in an unencrypted private key file's text. */
  public static KeyPair privateKey(String text, String source) throws IOException, GeneralSecurityException {
    var keys = SecurityUtils.loadKeyPairIdentities(null, () -> source,
        new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), null);
    if (keys == null || !keys.iterator().hasNext()) {
      throw new IOException(source + " holds no private key");
    }
    return keys.iterator().next();
  }

  /** The private key in OpenSSH format. */
  public static String privateText(KeyPair pair, String comment) throws IOException, GeneralSecurityException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(pair, comment, out);
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Writes the private key to a new file only its owner may read, as ssh -i wants it. */
  public static void writePrivateKeyFile(Path file, KeyPair pair, String comment) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (OutputStream out = Files.newOutputStream(file)) {
      write(pair, comment, out);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot write the key to " + file, e);
    }
  }

  private static void write(KeyPair pair, String comment, OutputStream out) throws IOException, GeneralSecurityException {
    OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, comment, null, out);
  }

  /** A public key as in authorized_keys: ssh-ed25519 AAAA... */
  public static String publicLine(PublicKey key) {
    return PublicKeyEntry.toString(key);
  }

  /** Reads a public key written as in authorized_keys (a comment after it is allowed). */
  public static PublicKey publicKey(String line) throws IOException, GeneralSecurityException {
    return AuthorizedKeyEntry.parseAuthorizedKeyEntry(line.strip()).resolvePublicKey(null, PublicKeyEntryResolver.FAILING);
  }

  /** The known_hosts line for a host key: the host alone on port 22, [host]:port otherwise. */
  public static String knownHostsLine(String host, int port, PublicKey key) {
    return (port == 22 ? host : "[" + host + "]:" + port) + " " + publicLine(key);
  }

  /** The key of a known_hosts line written by {@link #knownHostsLine}. */
  public static PublicKey knownHostsKey(String line) throws IOException, GeneralSecurityException {
    String l = line.strip();
    return publicKey(l.substring(l.indexOf(' ') + 1));
  }
}
