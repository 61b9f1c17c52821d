package dev.trainingjob.operator.outputs;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.trainingjob.operator.metrics.HealthServer;
import dev.trainingjob.operator.provider.ExistingMachines;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /outputs/<namespace>/<name>}: the outputs the operator collected for that job (its folder under the output
 * root), as a zip streamed file by file, for {@code kubectl trainingjob outputs} through the API server's service proxy.
 *
 * <p>What it never serves: anything outside the output root (the names must be a namespace and a job name, which
 * cannot hold a slash or start with a dot, the folder's real path must lie under the root's, and links are neither
 * followed nor sent), and a job that does not exist (outputs left behind by a deleted job stay on the volume but are
 * not handed out). The service proxy does not tell it who asks, and any pod can reach the port: every request must
 * carry the operator's {@link OutputsToken}, so whoever may read that Secret and proxy to the Service may read every
 * job's collected outputs, and the pod network alone may not (the README's outputs section says so).
 */
public final class OutputsEndpoint implements HttpHandler {
  public static final String PATH = "/outputs/";
  /** On every answer of this endpoint: tells the plugin them from the API server's own (no such Service, no endpoints). */
  public static final String HEADER = "X-Trainingjob-Outputs";
  private static final Logger LOG = LoggerFactory.getLogger(OutputsEndpoint.class);
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final String TEXT = "text/plain; charset=utf-8";

  /** At most this many downloads at once; more are told to come back (503, Retry-After). */
  public static final int MAX_DOWNLOADS = 4;
  /**
   * The zip's last entry: the number of files and bytes sent before it. A client that does not find it, or finds other
   * numbers, got a download cut short.
   */
  public static final String MANIFEST = ".trainingjob-outputs-manifest";

  private final Path root;
  private final KnownJobs jobs;
  private final OutputsToken token;
  private final Opener opener;
  private final Semaphore downloads = new Semaphore(MAX_DOWNLOADS);

  public OutputsEndpoint(Path root, KnownJobs jobs, OutputsToken token) {
    this(root, jobs, token, file -> Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS));
  }

  OutputsEndpoint(Path root, KnownJobs jobs, OutputsToken token, Opener opener) {
    this.root = root;
    this.jobs = jobs;
    this.token = token;
    this.opener = opener;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    boolean streaming = false;
    try {
      ex.getResponseHeaders().add(HEADER, "1");
      if (!"GET".equals(ex.getRequestMethod())) {
        HealthServer.respond(ex, 405, "only GET\n", TEXT);
        return;
      }
      // before anything about jobs or folders: a caller without the token learns nothing, not even which jobs exist
      var refusal = token.check(ex.getRequestHeaders().getFirst(OutputsToken.HEADER));
      if (refusal.isPresent()) {
        HealthServer.respond(ex, refusal.get().status(), refusal.get().text() + "\n", TEXT);
        return;
      }
      String[] parts = ex.getRequestURI().getPath().substring(PATH.length()).split("/", -1);
      if (parts.length != 2 || !NAMESPACE.matcher(parts[0]).matches() || !NAME.matcher(parts[1]).matches()) {
        HealthServer.respond(ex, 404, "not a job: the path is " + PATH + "<namespace>/<name>\n", TEXT);
        return;
      }
      String job = parts[0] + "/" + parts[1];
      Optional<Boolean> exists = jobs.exists(parts[0], parts[1]);
      if (exists.isEmpty()) {
        HealthServer.respond(ex, 503, "the operator has not listed the jobs yet; try again in a moment\n", TEXT);
        return;
      }
      if (!exists.get()) {
        HealthServer.respond(ex, 404, "trainingjob " + job + " not found\n", TEXT);
        return;
      }
      Path folder = realFolder(ExistingMachines.outputDirectory(root, parts[0], parts[1]));
      List<Path> all = folder == null ? List.of() : files(folder);
      List<Path> files = ofThisJob(all, jobs.created(parts[0], parts[1]));
      if (files.isEmpty()) {
        HealthServer.respond(ex, 404, "no outputs were collected for " + job + (all.isEmpty()
            ? " (spec.output.paths names none, or the script wrote none of them)\n"
            : " (the folder holds an earlier job's files of the same name)\n"), TEXT);
        return;
      }
      // a download may take minutes on one of the server's few threads: no more than MAX_DOWNLOADS at once, so the
      // kubelet's probes and Prometheus always find a free one (HealthServer's pool is larger by that margin)
      if (!downloads.tryAcquire()) {
        ex.getResponseHeaders().add("Retry-After", "10");
        HealthServer.respond(ex, 503, "the operator is sending " + MAX_DOWNLOADS + " downloads already; try again in a "
            + "moment\n", TEXT);
        return;
      }
      try {
        streaming = true;
        send(ex, files, folder);
        streaming = false;
      } finally {
        downloads.release();
      }
    } finally {
      // a zip cut short is not closed: closing would end the chunked answer as if it were whole. The exception goes on
      // to the server, which then drops the connection, and the client sees a download that broke off
      if (!streaming) {
        ex.close();
      }
    }
  }

  /** The job's folder as a real path, or null when it is missing or lies outside the root (through a link). */
  private Path realFolder(Path folder) throws IOException {
    try {
      Path real = folder.toRealPath();
      return real.startsWith(root.toRealPath()) && Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS) ? real : null;
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /**
   * The files the job of this name now collected, not an earlier job's of the same name (deleted and made again: the
   * folder is per name, and collection adds to it). The operator writes each collected file anew (no times are kept
   * from the machine), so a file of this job's was written after the job was created; an earlier job's was written
   * before that job was deleted, so before this one was created. Both times are this cluster's clocks: the API
   * server's creationTimestamp (whole seconds, rounded down) and the operator's file times.
   */
  private static List<Path> ofThisJob(List<Path> files, Optional<Instant> created) throws IOException {
    if (created.isEmpty()) {
      return files; // a job the API wrote no creation time for (none does): nothing to tell apart by
    }
    List<Path> mine = new ArrayList<>();
    for (Path file : files) {
      if (!Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(created.get())) {
        mine.add(file);
      }
    }
    return mine;
  }

  /** The regular files in the folder, sorted. Files.walk follows no link: linked files and folders are left out. */
  private static List<Path> files(Path folder) throws IOException {
    try (Stream<Path> walk = Files.walk(folder)) {
      return walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
    }
  }

  private void send(HttpExchange ex, List<Path> files, Path folder) throws IOException {
    ex.getResponseHeaders().add("Content-Type", "application/zip");
    ex.getResponseHeaders().add("Content-Disposition", "attachment; filename=\"outputs.zip\"");
    ex.sendResponseHeaders(200, 0); // streamed: the size is known once it is sent
    ZipOutputStream zip = new ZipOutputStream(ex.getResponseBody());
    // models and checkpoints hardly compress: spend no CPU trying (stored deflate blocks, streamed without a first pass)
    zip.setLevel(Deflater.NO_COMPRESSION);
    long bytes = 0;
    int count = 0;
    try {
      for (Path file : files) {
        String name = folder.relativize(file).toString();
        if (name.equals(MANIFEST)) {
          continue; // the client takes this name for the manifest: no output may pass for it
        }
        zip.putNextEntry(new ZipEntry(name));
        // a file swapped for a link since the listing is not followed either
        try (InputStream in = opener.open(file)) {
          bytes += in.transferTo(zip);
        }
        zip.closeEntry();
        count++;
      }
      // last: what the client checks it got, since a zip that ends between two entries reads as whole
      zip.putNextEntry(new ZipEntry(MANIFEST));
      zip.write(("files " + count + "\nbytes " + bytes + "\n").getBytes(StandardCharsets.US_ASCII));
      zip.closeEntry();
      zip.finish();
    } catch (IOException e) {
      LOG.warn("sending the outputs in {} stopped after {} files: {}", folder, count, e.getMessage());
      throw e;
    }
  }

  /** Opens a collected file for sending (a test makes one fail), following no link. */
  interface Opener {
    InputStream open(Path file) throws IOException;
  }
}
