package dev.trainingjob.operator.provider.ec2;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The instance's user data: cloud-init installs the job's login key for the SSH user and the host
 * key the operator generated, so the operator verifies the very first connection, and arms the
 * machine's own guard on every boot ({@link MachineGuard}). Nothing else runs at boot: the job
 * itself arrives over SSH.
 */
final class CloudInit {
  /** EC2 refuses user data over 16 KB (before base64). */
  static final int EC2_LIMIT_BYTES = 16 * 1024;

  private CloudInit() {}

  /**
   * @param sshUser the user the operator logs in as
   * @param imageUser the image's default user; another sshUser is created with passwordless sudo
   */
  static String userData(JobKeys.Keys keys, String sshUser, String imageUser, MachineGuard guard) {
    StringBuilder y = new StringBuilder("#cloud-config\n");
    if (sshUser.equals(imageUser)) {
      y.append("ssh_authorized_keys:\n  - ").append(keys.loginPublicLine()).append('\n');
    } else {
      y.append("users:\n  - default\n  - name: ").append(sshUser).append('\n')
          .append("    shell: /bin/bash\n    sudo: ALL=(ALL) NOPASSWD:ALL\n")
          .append("    ssh_authorized_keys:\n      - ").append(keys.loginPublicLine()).append('\n');
    }
    y.append("ssh_deletekeys: true\n");
    y.append("ssh_keys:\n  ed25519_private: |\n");
    for (String line : keys.hostPrivatePem().strip().split("\n")) {
      y.append("    ").append(line).append('\n');
    }
    y.append("  ed25519_public: ").append(keys.hostPublicLine()).append('\n');
    y.append(guard.bootcmd());
    int bytes = y.toString().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > EC2_LIMIT_BYTES) {
      // only a huge --ec2-shutdown-command gets here: refuse it here rather than have every launch refused
      throw new IllegalStateException("the user data is " + bytes + " bytes, over EC2's limit of " + EC2_LIMIT_BYTES
          + "; shorten --ec2-shutdown-command");
    }
    return y.toString();
  }

  static String encoded(String userData) {
    return Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8));
  }
}
