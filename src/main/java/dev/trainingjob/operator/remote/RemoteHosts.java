package dev.trainingjob.operator.remote;

/**
 * Opens (or reuses) connections to machines. A connection is reused only for a target that
 * authenticates exactly as the one that opened it: the same user, host and port, the same login key
 * and the same expected host key(s). So a job that names another job's machine and user, with any
 * other key, gets a connection of its own, which that machine refuses, never the other's. Connections
 * nothing uses for the idle timeout are closed (RemoteSettings), and so are a job's once it lets go.
 */
public interface RemoteHosts extends AutoCloseable {
  /** A connection no job holds (a command-line client's): closed when idle, or with the pool. */
  RemoteHost connect(SshTarget target) throws Exception;

  /**
   * A connection held for {@code job} until {@link #release}; jobs that authenticate alike share it. (The default, for
   * an implementation that keeps no connections, is a plain connect.)
   */
  default RemoteHost connect(SshTarget target, JobRef job) throws Exception {
    return connect(target);
  }

  /**
   * The job no longer needs the connections it holds (it was released, or its machine is now reached
   * another way): closes each one no other job holds. (Nothing to do where nothing is kept.)
   */
  default void release(JobRef job) {
  }

  @Override
  void close();
}
