package dev.trainingjob.operator.fake.ec2;

import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.SshTarget;

/** Machines nobody can log in to, as bootless fake instances are: jobs wait for SSH, and nothing goes over the network. */
public final class UnreachableHosts implements RemoteHosts {
  @Override
  public RemoteHost connect(SshTarget target) throws HostUnreachableException {
    throw new HostUnreachableException(target.host() + ":" + target.port(), "no sshd: a bootless fake instance", null);
  }

  @Override
  public void close() {
  }
}
