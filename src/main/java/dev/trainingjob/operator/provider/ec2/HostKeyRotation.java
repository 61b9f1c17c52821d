package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.job.EventRecorder;
import dev.trainingjob.operator.job.JobFailure;
import dev.trainingjob.operator.job.Reason;
import dev.trainingjob.operator.remote.RemoteCommandException;
import dev.trainingjob.operator.remote.RemoteHost;
import java.io.IOException;
import java.security.PublicKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces the instance's SSH host key once the operator has verified the one the user data carried.
 * That key had to travel in the user data so that the first connection is verified, and user data is
 * readable by any principal allowed ec2:DescribeInstanceAttribute (read-only roles are) for the
 * instance's whole life: whoever read it could pose as the instance. So, over the first verified
 * connection, the instance gets a key generated for it, and only that key is expected from then on.
 *
 * <p>The new key is made on the instance (ssh-keygen, as root): its private half never leaves it, and
 * the operator records only the public half. A state machine over what the job's Secret records and
 * what the instance presents, so an operator that dies at any line goes on from where the Secret
 * says ({@link JobKeys}):
 *
 * <ul>
 *   <li>it presents the pending key: the Secret expects it from now on (promoted);
 *   <li>it presents the boot key and nothing is pending: the instance stages a key (asked again, the
 *       same one), its public half is recorded as pending, then the instance installs it, and the next
 *       connection shows whether sshd presents it yet (a reload takes a moment);
 *   <li>it presents the boot key and a key is pending (an operator died after recording it): installed
 *       again (idempotent); an instance that has it neither staged nor in place gets it forgotten, and
 *       the next connection stages again;
 *   <li>the key was replaced before and nothing is pending: nothing to do (every later connection).
 * </ul>
 */
final class HostKeyRotation {
  private static final Logger LOG = LoggerFactory.getLogger(HostKeyRotation.class);

  private final JobKeys keys;
  private final EventRecorder events;

  HostKeyRotation(JobKeys keys, EventRecorder events) {
    this.keys = keys;
    this.events = events;
  }

  /** Looks at one verified connection to the job's instance; true when the keys to expect changed (connect again). */
  boolean afterConnect(TrainingJob job, RemoteHost remote) throws Exception {
    JobKeys.Keys k = keys.existing(job);
    if (k.hostKeyReplaced() && k.pendingHost() == null) {
      return false;
    }
    PublicKey presented = remote.hostKey();
    if (k.pendingHost() != null && KeyUtils.compareKeys(k.pendingHost(), presented)) {
      keys.promotePendingHostKey(job);
      LOG.info("{}: the instance presents its new host key {}; the key its user data carried is no longer accepted", job.ref(),
          KeyUtils.getFingerPrint(presented));
      events.normal(job, Reason.HostKeyReplaced, "The instance's SSH host key was replaced after the first login: it is now "
          + KeyUtils.getFingerPrint(presented) + " (in Secret " + JobKeys.secretName(job) + "); the key its user data carried "
          + "is no longer accepted");
      return true;
    }
    try {
      PublicKey next = k.pendingHost();
      if (next == null) {
        next = remote.stageHostKey();
        keys.stagePendingHostKey(job, next); // recorded before it is served: a restart accepts either key
      }
      remote.installHostKey(next);
    } catch (RemoteCommandException e) {
      if (e.exitStatus() == RemoteHost.HOST_KEY_NOT_STAGED) {
        LOG.info("{}: the instance no longer has the pending host key ({}); staging a new one", job.ref(), e.getMessage());
        keys.forgetPendingHostKey(job);
        return true;
      }
      throw new JobFailure(Reason.HostKeyNotReplaced, "Could not replace the instance's SSH host key, which its user data "
          + "carried (readable with ec2:DescribeInstanceAttribute), so the job does not run there: " + e.getMessage()
          + " (it runs with sudo -n as the SSH user, who needs passwordless sudo)");
    } catch (IOException e) {
      // sshd may have dropped this very connection as it reloaded: the next one shows which key it presents
      LOG.info("{}: the connection dropped while the new host key was installed ({}); connecting again", job.ref(), e.getMessage());
    }
    return true;
  }
}
