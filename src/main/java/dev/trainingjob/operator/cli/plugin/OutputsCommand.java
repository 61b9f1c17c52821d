package dev.trainingjob.operator.cli.plugin;

import dev.trainingjob.operator.api.OutputsStatus;
import dev.trainingjob.operator.api.Phase;
import dev.trainingjob.operator.api.TrainingJob;
import dev.trainingjob.operator.outputs.OperatorService;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "outputs", mixinStandardHelpOptions = true, description = "Downloads a finished job's outputs: from S3 when "
    + "they went there (status.outputUri), otherwise from the operator, through the API server's service proxy.")
public final class OutputsCommand implements Callable<Integer> {
  @Mixin
  PluginOptions options;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
  String name;

  @Option(names = "--to", paramLabel = "DIR", description = "Where to write them (made when missing; no file in it is "
      + "replaced). Default: ./NAME-outputs.")
  Path to;

  @Option(names = "--region", description = "S3: the bucket's AWS region. Default: the AWS SDK's (AWS_REGION, the profile).")
  String region;

  @Option(names = "--s3-endpoint", paramLabel = "URL", description = "S3: an S3-compatible endpoint (MinIO, a VPC endpoint) "
      + "instead of AWS's, with path-style requests.")
  URI s3Endpoint;

  @Option(names = "--operator-namespace", defaultValue = "${env:TRAININGJOB_OPERATOR_NAMESPACE:-trainingjob-system}",
      description = "The operator's namespace (the chart's release namespace). Env: TRAININGJOB_OPERATOR_NAMESPACE. Default: ${DEFAULT-VALUE}.")
  String operatorNamespace = OperatorService.DEFAULT.namespace();

  @Option(names = "--operator-service", defaultValue = "${env:TRAININGJOB_OPERATOR_SERVICE:-trainingjob-operator-metrics}",
      description = "The Service in front of the operator's HTTP port (the chart's <release>-trainingjob-operator-metrics, "
          + "or <release>-metrics when the release is named trainingjob-operator). Env: TRAININGJOB_OPERATOR_SERVICE. Default: ${DEFAULT-VALUE}.")
  String operatorService = OperatorService.DEFAULT.name();

  @Option(names = "--operator-token-secret", defaultValue = "${env:TRAININGJOB_OPERATOR_TOKEN_SECRET}",
      description = "The Secret in the operator's namespace holding the token its outputs endpoint asks for (the chart's "
          + "<fullname>-outputs-token). Env: TRAININGJOB_OPERATOR_TOKEN_SECRET. Default: --operator-service's name with "
          + "-metrics replaced by -outputs-token.")
  String operatorTokenSecret;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    return PluginErrors.run(spec, () -> {
      try (var client = options.client()) {
        String namespace = options.namespace(client);
        TrainingJob job = JobAccess.find(client, namespace, name);
        var status = job.getStatus();
        Phase phase = status == null ? null : status.phase;
        if (phase == null || !phase.isFinal()) {
          // outputs are collected (or copied to S3) once the script has ended: before that there is nothing to get
          throw new PluginException(namespace + "/" + name + " is " + (phase == null ? "not admitted yet" : phase)
              + ": its outputs are collected when its script ends; try again once it is Succeeded or Failed");
        }
        DownloadFolder folder = DownloadFolder.at(to != null ? to : Path.of(name + "-outputs"));
        String source;
        try {
          if (status.outputUri != null) {
            source = status.outputUri;
            S3Outputs.download(status.outputUri, region, s3Endpoint, folder);
          } else {
            var service = new OperatorService(operatorNamespace, operatorService, OperatorService.DEFAULT.portName());
            source = "the operator (" + service.namespace() + "/" + service.name() + ")";
            String secret = operatorTokenSecret == null || operatorTokenSecret.isBlank() ? service.tokenSecret() : operatorTokenSecret;
            OperatorOutputs.download(client, service, secret, namespace, name, folder);
          }
        } catch (RuntimeException e) {
          folder.discard(); // what a failed download wrote is not left to pass for all of it
          throw e;
        }
        report(folder, source, spec.commandLine().getOut());
        warn(status.outputs, spec.commandLine().getErr());
        return 0;
      }
    });
  }

  /** What status.outputs says was not saved: the download has all there is, and the person should know it is not all. */
  private static void warn(OutputsStatus outputs, PrintWriter err) {
    if (outputs == null) {
      return;
    }
    if (outputs.notSaved != null && !outputs.notSaved.isBlank()) {
      err.println("warning: not every output was saved: " + outputs.notSaved.strip().replaceAll("\\s*\n\\s*", " "));
    }
    if (outputs.missing != null && !outputs.missing.isEmpty()) {
      err.println("warning: the script did not write " + String.join(", ", outputs.missing));
    }
    err.flush();
  }

  private static void report(DownloadFolder folder, String source, PrintWriter out) {
    long total = 0;
    for (DownloadFolder.Written file : folder.written()) {
      out.printf("%s (%d bytes)%n", folder.root().resolve(file.name()), file.bytes());
      total += file.bytes();
    }
    out.printf("%d files, %d bytes, from %s into %s%n", folder.written().size(), total, source, folder.root());
    out.flush();
  }
}
