package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.Assembly;
import dev.trainingjob.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Runs the operator against the current kubeconfig context, or the in-cluster configuration inside a pod.")
public final class RunCommand implements Callable<Integer> {
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
    try (var runtime = Assembly.start(client, config)) {
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "shutdown"));
      stopped.await();
    }
    return 0;
  }
}
