package dev.trainingjob.operator.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * What a server on this machine sees, read from the kernel (/proc/net/tcp and tcp6): the TCP
 * connections established to an address and port. So a test can tell whether a client really
 * closed its connection, whatever the server is (MINA SSHD, OpenSSH, a fake instance).
 */
public final class Connections {
  private static final String ESTABLISHED = "01";

  private Connections() {}

  /** Connections established to host:port, counted at the server's end. */
  public static int established(String host, int port) {
    byte[] want;
    try {
      want = InetAddress.getByName(host).getAddress();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int count = 0;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      for (String line : lines(Path.of(table))) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 4 || !f[1].contains(":") || !ESTABLISHED.equals(f[3])) {
          continue; // the header, or another state
        }
        String[] local = f[1].split(":");
        if (Integer.parseInt(local[1], 16) == port && Arrays.equals(address(local[0]), want)) {
          count++;
        }
      }
    }
    return count;
  }

  private static List<String> lines(Path table) {
    try {
      return Files.exists(table) ? Files.readAllLines(table) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The kernel writes each 32-bit word of the address in host (little-endian) order; an IPv4-mapped v6 address as IPv4. */
  private static byte[] address(String hex) {
    byte[] raw = HexFormat.of().parseHex(hex);
    for (int word = 0; word < raw.length; word += 4) {
      for (int i = 0; i < 2; i++) {
        byte b = raw[word + i];
        raw[word + i] = raw[word + 3 - i];
        raw[word + 3 - i] = b;
      }
    }
    boolean mapped = raw.length == 16 && Arrays.equals(Arrays.copyOf(raw, 10), new byte[10]) && raw[10] == (byte) 0xff
        && raw[11] == (byte) 0xff;
    return mapped ? Arrays.copyOfRange(raw, 12, 16) : raw;
  }
}
