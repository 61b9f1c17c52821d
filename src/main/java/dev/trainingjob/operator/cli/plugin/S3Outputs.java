package dev.trainingjob.operator.cli.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Downloads what an ec2 instance copied to its job's spec.output.s3Uri (status.outputUri): every object under the
 * prefix (ListObjectsV2, page by page), each to its key's place under the folder, with the caller's own AWS identity
 * (the SDK's default chains for credentials and region). The object the operator's preflight wrote is left out.
 */
final class S3Outputs {
  /** What the driver writes under the prefix to prove it may (driver.sh's preflight); not an output. */
  static final String PREFLIGHT = ".trainingjob-preflight";

  private final String bucket;
  private final String prefix; // "" or ending in "/"
  private final String uri;

  /**
   * By hand, not as a java.net.URI: S3 keys are not URI paths (a "[" or "{" would make URI refuse it, and "%20" would be
   * decoded to a space that is not in the key). s3://BUCKET/PREFIX, the prefix's trailing slashes dropped.
   */
  private S3Outputs(String uri) {
    String rest = uri.startsWith("s3://") ? uri.substring("s3://".length()) : null;
    int slash = rest == null ? -1 : rest.indexOf('/');
    String bucket = rest == null ? "" : slash < 0 ? rest : rest.substring(0, slash);
    if (bucket.isEmpty()) {
      throw new PluginException("status.outputUri is not an s3://BUCKET/PREFIX URI: " + uri);
    }
    String path = slash < 0 ? "" : rest.substring(slash + 1).replaceAll("/+$", "");
    this.uri = uri;
    this.bucket = bucket;
    this.prefix = path.isEmpty() ? "" : path + "/";
  }

  /**
   * Downloads everything under {@code uri} into {@code folder}.
   *
   * @param region the bucket's region; null: the SDK's chain (AWS_REGION, the profile). Another region works too: the
   *     client follows S3's redirect to the bucket's
   * @param endpoint an S3-compatible endpoint instead of AWS's (path-style requests); null: AWS
   */
  static void download(String uri, String region, URI endpoint, DownloadFolder folder) {
    S3Outputs outputs = new S3Outputs(uri);
    try (S3Client s3 = client(region, endpoint)) {
      outputs.copy(s3, folder);
    } catch (SdkClientException e) {
      throw new PluginException("cannot read " + uri + " from S3: " + firstLine(e.getMessage()));
    }
  }

  private static S3Client client(String region, URI endpoint) {
    S3ClientBuilder builder = S3Client.builder().credentialsProvider(DefaultCredentialsProvider.builder().build());
    if (region != null) {
      builder.region(Region.of(region));
    } else {
      try {
        builder.region(DefaultAwsRegionProviderChain.builder().build().getRegion());
      } catch (SdkClientException e) {
        throw new PluginException("no AWS region: pass --region (any; the bucket's saves a redirect) or set AWS_REGION");
      }
    }
    if (endpoint != null) {
      builder.endpointOverride(endpoint).forcePathStyle(true);
    } else {
      builder.crossRegionAccessEnabled(true);
    }
    return builder.build();
  }

  private void copy(S3Client s3, DownloadFolder folder) {
    ListObjectsV2Request list = ListObjectsV2Request.builder().bucket(bucket).prefix(prefix).build();
    int listed = 0;
    try {
      for (S3Object object : s3.listObjectsV2Paginator(list).contents()) {
        // an s3Uri written with a trailing slash gives keys like prefix//output/x: the name is what follows the slashes
        String name = object.key().substring(prefix.length()).replaceAll("^/+", "");
        if (name.isEmpty() || name.endsWith("/") || name.equals(PREFLIGHT)) {
          continue; // the prefix's own "folder" marker, a console-made folder, the operator's proof of access
        }
        listed++;
        get(s3, object.key(), name, folder);
      }
    } catch (S3Exception e) {
      throw refused(e, "list " + uri + "/", "s3:ListBucket on arn:aws:s3:::" + bucket);
    }
    if (listed == 0) {
      throw new PluginException("nothing under " + uri + ": the job copied no outputs there (spec.output.paths names none, "
          + "or the script wrote none of them)");
    }
  }

  private void get(S3Client s3, String key, String name, DownloadFolder folder) {
    try (InputStream in = s3.getObject(GetObjectRequest.builder().bucket(bucket).key(key).build())) {
      folder.write(name, in, uri);
    } catch (S3Exception e) {
      throw refused(e, "read s3://" + bucket + "/" + key, "s3:GetObject on arn:aws:s3:::" + bucket + "/" + prefix + "*");
    } catch (IOException e) {
      throw new PluginException("reading s3://" + bucket + "/" + key + " stopped: " + e.getMessage());
    }
  }

  /** S3's refusal as one line that says what to do; the error codes are S3's. */
  private PluginException refused(S3Exception e, String action, String permission) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    return new PluginException(switch (code == null ? "" : code) {
      case "AccessDenied" -> "access denied: cannot " + action + " — your AWS identity needs " + permission
          + " (for the whole download: s3:ListBucket on the bucket " + bucket + " and s3:GetObject under " + uri + "/)";
      case "NoSuchBucket" -> "the bucket " + bucket + " of status.outputUri " + uri + " does not exist (deleted, or another account's)";
      case "NoSuchKey" -> "cannot " + action + ": it was listed but is gone (deleted meanwhile?)";
      default -> "cannot " + action + ": S3 said " + (code == null ? e.statusCode() : code) + ": "
          + firstLine(e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage());
    });
  }

  private static String firstLine(String text) {
    return text == null ? "" : text.lines().findFirst().orElse("");
  }
}
