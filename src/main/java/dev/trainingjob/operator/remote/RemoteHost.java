package dev.trainingjob.operator.remote;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One machine reached over SSH, following the remote protocol in DESIGN.md: one job directory,
 * one driver started once in screen, one probe. Every method is idempotent.
 */
public interface RemoteHost extends AutoCloseable {
  /** Writes the driver, the probe, the job's files and its environment into the job directory; a job directory whose driver was started is left as it is. */
  void upload(JobBundle bundle) throws Exception;

  /** Starts the first attempt of the driver in screen unless it was started before; true when this call started it. */
  default boolean startOnce(JobRef job) throws Exception {
    return start(job, 1);
  }

  /**
   * Starts attempt {@code attempt} of the driver in screen unless that attempt was started before; true when this call started
   * it. A later attempt than the one the job directory holds runs the script again there (the last attempt's exit record is
   * kept aside; Python, the files and the checkpoint directory stay); one whose last attempt still runs is an IOException.
   */
  boolean start(JobRef job, int attempt) throws Exception;

  /** One snapshot of the job: state, exit code, log tail, progress, disk, GPU. */
  ProbeResult probe(JobRef job) throws Exception;

  /**
   * Waits on the machine until the job leaves the state {@code seen} (the script starts running, the driver copies the
   * outputs, the script exits), holding no thread here meanwhile: completes with a probe taken at once after the change, or
   * with a plain probe once {@code bound} passed without one (then wait again). Cancelling the future ends the wait on the
   * machine. A host that cannot wait (this default, or a connection with no channel to spare) fails the future at once:
   * the job is then probed at its interval only.
   */
  default CompletableFuture<ProbeResult> awaitChange(JobRef job, ProbeResult.State seen, Duration bound) {
    return CompletableFuture.failedFuture(new UnsupportedOperationException("this machine is only probed"));
  }

  /** Interrupts the script, kills it after a grace period, and ends its screen session. */
  void stop(JobRef job) throws Exception;

  /**
   * Downloads the given paths of the job's files into the destination, at most {@code maxBytes} in all (a file that would
   * pass the bound stays on the machine); returns what was saved, what the script did not write, and what the bound cut.
   * An interrupted thread stops it (the collect deadline).
   */
  Collected collect(JobRef job, List<String> paths, Path destination, long maxBytes) throws Exception;

  /**
   * Keeps a failed job's machine for a person (the debug hold): a shell in the job's screen session, in the job's directory
   * with its Python first on PATH; on an ec2 machine the power-off ceiling moves to {@code ceilingEpochSecond} unless it is
   * later already, and the heartbeat is touched. Idempotent: a session that is there already is kept, one a person ended
   * is started again.
   */
  void hold(JobRef job, long ceilingEpochSecond) throws Exception;

  /**
   * Keeps the machine while the operator still needs it after the script ended (outputs being collected): on an ec2
   * machine the guard's power-off ceiling moves to {@code ceilingEpochSecond} unless it is later already; elsewhere
   * nothing. Idempotent.
   */
  void keepUntil(JobRef job, long ceilingEpochSecond) throws Exception;

  /** Removes the job directory. */
  void cleanup(JobRef job) throws Exception;

  /**
   * Makes the job directory ready for the job's next run on this machine: everything of the last run goes except its Python
   * environment and its checkpoint directory. Done once per {@code run} (a later call for the same run changes nothing);
   * refused while the last run still runs.
   */
  void renew(JobRef job, String run) throws Exception;

  /**
   * Copies the job's output.log to {@code out}; with {@code follow}, keeps copying what the script
   * appends while {@code keepGoing} says so.
   */
  void streamLog(JobRef job, boolean follow, OutputStream out, BooleanSupplier keepGoing) throws Exception;

  /**
   * Forwards a port on this side's 127.0.0.1 (0 picks a free one) to a port on the machine's own
   * loopback, through the SSH connection: nothing is opened on the machine's network.
   */
  PortForward forward(int localPort, int remotePort) throws Exception;

  /** The host key the machine presented on this connection: one of those its target accepts. */
  PublicKey hostKey() throws Exception;

  /**
   * Makes the machine's next SSH host key, on the machine (as root, through sudo where the login user is not root), and
   * returns its public half; its private half never leaves the machine. Asked again before {@link #installHostKey}, the
   * same key. A refusal (no passwordless sudo, no ssh-keygen) is a RemoteCommandException.
   */
  PublicKey stageHostKey() throws Exception;

  /**
   * Makes the machine's SSH server present the staged key {@code next} to every new connection; connections already
   * open keep theirs. Idempotent: a key in place already is reloaded again. A refusal is a RemoteCommandException
   * ({@link #HOST_KEY_NOT_STAGED} when the machine has neither that key staged nor in place); an IOException means the
   * connection dropped, possibly because sshd reloaded, and the next connection shows whether the key is in place.
   */
  void installHostKey(PublicKey next) throws Exception;

  /** installHostKey's exit status when the key it names is neither staged nor in place: stage again. */
  int HOST_KEY_NOT_STAGED = 4;

  /** An open forward; closing it stops forwarding. */
  interface PortForward extends AutoCloseable {
    int localPort();

    @Override
    void close() throws IOException;
  }

  @Override
  void close();
}
