package dev.trainingjob.operator.remote;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * How the operator works on machines.
 *
 * @param miniforgeUrl where the driver downloads the Miniforge installer for conda jobs
 * @param miniforgeSha256 the installer's expected SHA-256; conda jobs fail clearly without it
 * @param connectTimeout one SSH connection attempt's limit
 * @param commandTimeout one remote command's limit (upload, start, probe)
 * @param stopGrace how long the script has to exit after Ctrl-C before it is killed
 * @param collectTimeout how long collecting a job's outputs may take, from the script's end; then the job ends with what was
 *     collected, and the status says what was not
 * @param collectMaxBytes the most a job's outputs collected over SFTP may weigh; beyond it the rest stays on the machine
 *     (and the status says so): the operator's volume is not the place for a data set
 * @param idleTimeout how long an SSH connection nothing uses stays open before it is closed (a running job's probes use
 *     it; the next use opens a new one)
 * @param keepAlive how often a connection asks the machine for a sign of life; after {@link #KEEP_ALIVE_MISSES} unanswered
 *     in a row it is closed (a machine that vanished without a word), and the next use opens a new one
 */
public record RemoteSettings(String miniforgeUrl, String miniforgeSha256, Duration connectTimeout, Duration commandTimeout,
    Duration stopGrace, Duration idleTimeout, Duration collectTimeout, long collectMaxBytes, Duration keepAlive) {
  /** Unanswered keep-alives in a row after which a connection is taken for dead, as OpenSSH's ServerAliveCountMax. */
  public static final int KEEP_ALIVE_MISSES = 3;

  public RemoteSettings {
    if (keepAlive == null || keepAlive.isNegative() || keepAlive.isZero()) {
      throw new IllegalArgumentException("the SSH keep-alive interval must be positive, not " + keepAlive);
    }
    if (collectTimeout == null || collectTimeout.isNegative() || collectTimeout.isZero()) {
      throw new IllegalArgumentException("the collect timeout must be positive, not " + collectTimeout);
    }
    if (collectMaxBytes < 0) {
      throw new IllegalArgumentException("the collect size bound must not be negative, not " + collectMaxBytes);
    }
    if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("the SSH idle timeout must be positive, not " + idleTimeout);
    }
  }

  public static RemoteSettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.miniforgeUrl = miniforgeUrl;
    b.miniforgeSha256 = miniforgeSha256;
    b.connectTimeout = connectTimeout;
    b.commandTimeout = commandTimeout;
    b.stopGrace = stopGrace;
    b.idleTimeout = idleTimeout;
    b.collectTimeout = collectTimeout;
    b.collectMaxBytes = collectMaxBytes;
    b.keepAlive = keepAlive;
    return b;
  }

  /** These settings with what change sets, e.g. {@code settings.with(r -> r.stopGrace = Duration.ofSeconds(1))}. */
  public RemoteSettings with(Consumer<Builder> change) {
    Builder b = toBuilder();
    change.accept(b);
    return b.build();
  }

  /** The one place the defaults are written (see OperatorConfig.Builder). */
  public static final class Builder {
    public String miniforgeUrl;
    public String miniforgeSha256;
    public Duration connectTimeout = Duration.ofSeconds(10);
    public Duration commandTimeout = Duration.ofSeconds(60);
    public Duration stopGrace = Duration.ofSeconds(10);
    /** Long beside any probe interval, so a running job keeps its connection; short beside a forgotten one. */
    public Duration idleTimeout = Duration.ofMinutes(10);
    public Duration collectTimeout = Duration.ofMinutes(30);
    public long collectMaxBytes = 20L << 30;
    /** A dead connection is noticed within about a minute (three unanswered), well inside the command timeout's reach. */
    public Duration keepAlive = Duration.ofSeconds(15);

    private Builder() {
    }

    public RemoteSettings build() {
      return new RemoteSettings(miniforgeUrl, miniforgeSha256, connectTimeout, commandTimeout, stopGrace, idleTimeout, collectTimeout, collectMaxBytes, keepAlive);
    }
  }
}
