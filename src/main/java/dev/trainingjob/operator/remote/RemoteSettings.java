package dev.trainingjob.operator.remote;

import java.time.Duration;

/**
 * How the operator works on machines.
 *
 * @param miniforgeUrl where the driver downloads the Miniforge installer for conda jobs
 * @param miniforgeSha256 the installer's expected SHA-256; conda jobs fail clearly without it
 * @param connectTimeout one SSH connection attempt's limit
 * @param commandTimeout one remote command's limit (upload, start, probe)
 * @param stopGrace how long the script has to exit after Ctrl-C before it is killed
 */
public record RemoteSettings(String miniforgeUrl, String miniforgeSha256, Duration connectTimeout, Duration commandTimeout,
    Duration stopGrace) {
  public static RemoteSettings defaults() {
    return new RemoteSettings(null, null, Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(10));
  }

  public RemoteSettings withMiniforge(String url, String sha256) {
    return new RemoteSettings(url, sha256, connectTimeout, commandTimeout, stopGrace);
  }

  public RemoteSettings withStopGrace(Duration grace) {
    return new RemoteSettings(miniforgeUrl, miniforgeSha256, connectTimeout, commandTimeout, grace);
  }
}
