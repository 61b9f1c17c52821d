package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.config.OperatorConfig;
import dev.trainingjob.operator.remote.RemoteSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** The operator's settings as flags; each has an environment variable of the same meaning. */
public final class OperatorOptions {
  @Option(names = "--default-provider", defaultValue = "${env:TRAININGJOB_DEFAULT_PROVIDER:-local}",
      description = "Provider for jobs whose spec.compute names none: ec2, host or local. Env: TRAININGJOB_DEFAULT_PROVIDER. Default: ${DEFAULT-VALUE}.")
  String defaultProvider;

  @Option(names = "--namespaces", split = ",", defaultValue = "${env:TRAININGJOB_NAMESPACES}",
      description = "Comma-separated namespaces to watch; all when empty. Env: TRAININGJOB_NAMESPACES.")
  List<String> namespaces;

  @Option(names = "--operator-id", defaultValue = "${env:TRAININGJOB_OPERATOR_ID:-trainingjob-operator}",
      description = "Names this operator on what it creates (the managed-by tag). Env: TRAININGJOB_OPERATOR_ID. Default: ${DEFAULT-VALUE}.")
  String operatorId;

  @Option(names = "--poll-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_POLL_INTERVAL:-10s}",
      description = "How often a machine that is not ready is looked at again. Env: TRAININGJOB_POLL_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration pollInterval;

  @Option(names = "--probe-interval", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_PROBE_INTERVAL:-5s}",
      description = "How often a running job is probed over SSH. Env: TRAININGJOB_PROBE_INTERVAL. Default: ${DEFAULT-VALUE}.")
  Duration probeInterval;

  @Option(names = "--ssh-ready-timeout", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_SSH_READY_TIMEOUT:-10m}",
      description = "How long a new machine may take before SSH answers. Env: TRAININGJOB_SSH_READY_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration sshReadyTimeout;

  @Option(names = "--reconcile-threads", defaultValue = "${env:TRAININGJOB_RECONCILE_THREADS:-10}",
      description = "How many jobs are reconciled at once. Env: TRAININGJOB_RECONCILE_THREADS. Default: ${DEFAULT-VALUE}.")
  int reconcileThreads;

  @Option(names = "--output-dir", defaultValue = "${env:TRAININGJOB_COLLECT_DIR:-trainingjob-outputs}",
      description = "Where the local and host providers collect outputs, one folder per namespace/name. Env: TRAININGJOB_COLLECT_DIR. Default: ${DEFAULT-VALUE}.")
  Path outputDir;

  @Option(names = "--local-work-root", defaultValue = "${env:TRAININGJOB_LOCAL_WORK_ROOT:-${sys:java.io.tmpdir}/trainingjob-local}",
      description = "The local provider's working root: one home per job. Env: TRAININGJOB_LOCAL_WORK_ROOT. Default: ${DEFAULT-VALUE}.")
  Path localWorkRoot;

  @Option(names = "--miniforge-url", defaultValue = "${env:TRAININGJOB_MINIFORGE_URL}",
      description = "Where machines download the Miniforge installer for bootstrap: conda. Env: TRAININGJOB_MINIFORGE_URL.")
  String miniforgeUrl;

  @Option(names = "--miniforge-sha256", defaultValue = "${env:TRAININGJOB_MINIFORGE_SHA256}",
      description = "The installer's SHA-256; conda jobs fail with a clear message without it. Env: TRAININGJOB_MINIFORGE_SHA256.")
  String miniforgeSha256;

  @Option(names = "--stop-grace", converter = DurationConverter.class, defaultValue = "${env:TRAININGJOB_STOP_GRACE:-10s}",
      description = "How long a script has after Ctrl-C before it is killed. Env: TRAININGJOB_STOP_GRACE. Default: ${DEFAULT-VALUE}.")
  Duration stopGrace;

  public OperatorConfig toConfig() {
    Set<String> ns = new LinkedHashSet<>();
    if (namespaces != null) {
      namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(ns::add);
    }
    var remote = RemoteSettings.defaults().withMiniforge(miniforgeUrl, miniforgeSha256).withStopGrace(stopGrace);
    return new OperatorConfig(operatorId, defaultProvider, ns, pollInterval, probeInterval, sshReadyTimeout, reconcileThreads,
        outputDir, localWorkRoot, remote);
  }
}
