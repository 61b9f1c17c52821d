package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.concurrent.Callable;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Runs the operator against the current kubeconfig context, or the in-cluster configuration inside a pod.")
public final class RunCommand implements Callable<Integer> {
  /** How long a stop waits for the operator to close: within Kubernetes' default 30 s between SIGTERM and SIGKILL. */
  private static final Duration CLOSE_WITHIN = Duration.ofSeconds(25);

  @Spec
  CommandSpec spec;

  @Mixin
  OperatorOptions options;

  @Override
  public Integer call() throws Exception {
    OperatorConfig config;
    try {
      // settings that can never work are refused as a usage error, before anything is connected to
      config = options.toConfig();
      Assembly.check(config);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    var client = new KubernetesClientBuilder().build();
    CountDownLatch stopped = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    // the JVM halts once its shutdown hooks return: the hook waits for the close (reconciles ended, Events written,
    // connections closed), within the pod's default 30 s of grace
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopped.countDown();
      try {
        closed.await(CLOSE_WITHIN.toSeconds(), TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "shutdown"));
    try (var runtime = Assembly.start(client, config)) {
      stopped.await();
    } finally {
      closed.countDown();
    }
    return 0;
  }
}
