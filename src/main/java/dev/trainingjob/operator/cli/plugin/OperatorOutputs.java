package dev.trainingjob.operator.cli.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainingjob.operator.outputs.OperatorService;
import dev.trainingjob.operator.outputs.OutputsEndpoint;
import dev.trainingjob.operator.outputs.OutputsToken;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.HttpResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Downloads the outputs the operator collected (local, host, and ec2 without an S3 URI) from its outputs endpoint,
 * through the API server's service proxy with the user's own kubeconfig: the user needs get on services/proxy for the
 * operator's Service, never exec into its pod.
 */
final class OperatorOutputs {
  private static final ObjectMapper JSON = new ObjectMapper();

  private OperatorOutputs() {}

  static void download(KubernetesClient kube, OperatorService service, String tokenSecret, String namespace, String name,
      DownloadFolder folder) {
    String where = "the operator's Service " + service.namespace() + "/" + service.name();
    String token = token(kube, service, tokenSecret);
    // no retries: a Service without endpoints answers 503 every time, and the person at the terminal waits for it
    try (KubernetesClient once = new KubernetesClientBuilder()
        .withConfig(new ConfigBuilder(kube.getConfiguration()).withRequestRetryBackoffLimit(0).build()).build()) {
      var http = once.getHttpClient();
      var request = http.newHttpRequestBuilder()
          .uri(once.getMasterUrl().toString().replaceAll("/+$", "") + service.proxyPath(namespace, name))
          .header(OutputsToken.HEADER, token).build();
      HttpResponse<InputStream> response = http.sendAsync(request, InputStream.class).get(2, TimeUnit.MINUTES);
      try (InputStream body = response.body()) {
        if (response.code() != 200) {
          throw refused(response, body, service, where);
        }
        unzip(body, folder, where);
      }
    } catch (ExecutionException e) {
      throw new PluginException("cannot reach " + where + " through the API server: " + e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new PluginException(where + " did not answer within 2 minutes");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginException("interrupted");
    } catch (IOException e) {
      throw new PluginException("the download from " + where + " stopped: " + e.getMessage());
    }
  }

  /**
   * The operator's outputs token, from its Secret, with the user's own credentials: RBAC on that one Secret is what
   * decides who may read collected outputs. Held in memory only, never printed.
   */
  private static String token(KubernetesClient kube, OperatorService service, String secretName) {
    String secret = "the Secret " + service.namespace() + "/" + secretName + " (the operator's outputs token)";
    String bind = "bind the Role " + service.readerRole() + " in namespace " + service.namespace()
        + " (it grants get on that Secret and the service proxy), or pass --operator-token-secret";
    Secret found;
    try {
      found = kube.secrets().inNamespace(service.namespace()).withName(secretName).get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403) {
        throw new PluginException("you may not read " + secret + ": " + bind);
      }
      throw new PluginException("cannot read " + secret + ": " + firstLine(e.getMessage()));
    }
    String encoded = found == null || found.getData() == null ? null : found.getData().get(OutputsToken.SECRET_KEY);
    if (encoded == null || encoded.isBlank()) {
      throw new PluginException(secret + " does not exist or has no key " + OutputsToken.SECRET_KEY + " (the chart makes "
          + "it; with deploy/ create it as its README says): " + bind);
    }
    try {
      return new String(Base64.getDecoder().decode(encoded.strip()), StandardCharsets.UTF_8).strip();
    } catch (IllegalArgumentException e) {
      throw new PluginException(secret + " holds no base64 " + OutputsToken.SECRET_KEY + " value");
    }
  }

  private static String firstLine(String text) {
    return text == null ? "" : text.lines().findFirst().orElse("").strip();
  }

  /**
   * Writes the zip's files; its last entry must be the operator's manifest and agree with what was written. A zip that
   * ends between two entries (the connection dropped, the operator hit a read error) reads as whole without it.
   */
  private static void unzip(InputStream body, DownloadFolder folder, String where) throws IOException {
    String manifest = null;
    try (ZipInputStream zip = new ZipInputStream(body, StandardCharsets.UTF_8)) {
      for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
        if (manifest != null) {
          throw cutShort(folder, where, "an entry after the manifest");
        }
        if (entry.getName().equals(OutputsEndpoint.MANIFEST)) {
          manifest = new String(zip.readNBytes(1024), StandardCharsets.US_ASCII);
        } else if (!entry.isDirectory()) {
          folder.write(entry.getName(), zip, where);
        }
      }
    } catch (java.util.zip.ZipException | java.io.EOFException e) {
      throw cutShort(folder, where, e.getMessage());
    }
    long bytes = folder.written().stream().mapToLong(DownloadFolder.Written::bytes).sum();
    String got = "files " + folder.written().size() + "\nbytes " + bytes + "\n";
    if (manifest == null) {
      throw cutShort(folder, where, "no manifest at its end");
    }
    if (!manifest.equals(got)) {
      throw cutShort(folder, where, "the manifest says " + manifest.strip().replace('\n', ' ') + ", got " + got.strip().replace('\n', ' '));
    }
  }

  private static PluginException cutShort(DownloadFolder folder, String where, String why) {
    return new PluginException("the download from " + where + " was cut short after " + folder.written().size()
        + " files (" + why + "); run it again");
  }

  /** The operator's own refusal (its one line), or what the API server's refusal means for this user. */
  private static PluginException refused(HttpResponse<InputStream> response, InputStream body, OperatorService service, String where)
      throws IOException {
    String text = new String(body.readNBytes(8192), StandardCharsets.UTF_8);
    if (response.header(OutputsEndpoint.HEADER) != null) {
      return new PluginException(text.strip());
    }
    String message = apiMessage(text);
    return new PluginException(switch (response.code()) {
      case 401 -> "the API server does not accept your credentials (" + message + ")";
      case 403 -> "you may not read outputs through " + where + ": you need get on services/proxy for "
          + service.name() + ":" + service.portName() + " in namespace " + service.namespace()
          + " (bind the Role " + service.readerRole() + "; " + message + ")";
      case 404 -> where + " was not found (" + message + "): pass --operator-namespace and --operator-service "
          + "(the chart's are the release's namespace and <release>-trainingjob-operator-metrics, with metrics.enabled)";
      case 502, 503, 504 -> where + " does not answer (" + message + "): is the operator running?";
      default -> "the API server answered " + response.code() + " for " + where + ": " + message;
    });
  }

  /** The message of a Kubernetes Status, or the text's first line. */
  private static String apiMessage(String text) {
    try {
      JsonNode status = JSON.readTree(text);
      if (status != null && status.hasNonNull("message")) {
        return status.get("message").asText();
      }
    } catch (IOException e) {
      // not JSON: the first line says what it is
    }
    return text.lines().findFirst().orElse("no message").strip();
  }
}
