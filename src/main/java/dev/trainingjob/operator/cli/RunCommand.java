package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.Assembly;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Runs the operator against the current kubeconfig context, or the in-cluster configuration inside a pod.")
public final class RunCommand implements Callable<Integer> {
  @Mixin
  OperatorOptions options;

  @Override
  public Integer call() throws Exception {
    var client = new KubernetesClientBuilder().build();
    try (var runtime = Assembly.start(client, options.toConfig())) {
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "shutdown"));
      stopped.await();
    }
    return 0;
  }
}
