package dev.trainingjob.operator.remote.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainingjob.operator.remote.RemoteSettings;
import dev.trainingjob.operator.support.SshPeer;
import java.nio.file.Path;
import java.util.List;
import org.apache.sshd.common.kex.KexProposalOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key exchange the operator's connections agree: post-quantum with a server that has one, the cheap one where the
 * server has it (a burst of job starts opens a connection per machine; sntrup761 in BouncyCastle's Java costs about five
 * times the CPU of ML-KEM), and what an older server has otherwise.
 */
class KeyExchangeTest {
  @TempDir
  Path tmp;

  private static String agreed(SshPeer peer) throws Exception {
    try (var hosts = new SshRemoteHosts(RemoteSettings.defaults()); var lease = hosts.lease(peer.target())) {
      return lease.session().getNegotiatedKexParameter(KexProposalOption.ALGORITHMS);
    }
  }

  @Test
  void theLocalProvidersServerAgreesTheMlKemHybrid() throws Exception {
    try (var peer = new SshPeer.Mina(tmp.resolve("mina"))) {
      assertThat(agreed(peer)).isEqualTo("mlkem768x25519-sha256");
    }
  }

  @Test
  void anOpenSshAgreesAPostQuantumHybrid() throws Exception {
    try (var peer = new SshPeer.OpenSsh(tmp.resolve("openssh"))) {
      // OpenSSH 8.5 to 9.8 (Debian 12 has 9.2) offer sntrup761x25519, under its @openssh.com name before 9.9; 9.9 on
      // ML-KEM as well
      assertThat(agreed(peer)).matches("mlkem768x25519-sha256|sntrup761x25519-sha512(@openssh\\.com)?");
    }
  }

  @Test
  void aServerWithoutPostQuantumExchangesIsStillReached() throws Exception {
    // an OpenSSH before 8.5, or one a crypto policy narrowed: the operator's list goes on to what such a server has
    try (var peer = new SshPeer.OpenSsh(tmp.resolve("curve25519"), List.of("KexAlgorithms curve25519-sha256"))) {
      assertThat(agreed(peer)).isEqualTo("curve25519-sha256");
    }
    try (var peer = new SshPeer.OpenSsh(tmp.resolve("group14"), List.of("KexAlgorithms diffie-hellman-group14-sha256"))) {
      assertThat(agreed(peer)).isEqualTo("diffie-hellman-group14-sha256");
    }
  }
}
