package dev.trainingjob.operator.remote;

/** Opens (or reuses) the connection to a machine. */
public interface RemoteHosts extends AutoCloseable {
  RemoteHost connect(SshTarget target) throws Exception;

  @Override
  void close();
}
