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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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

  private final Path root;
  private final KnownJobs jobs;
  private final OutputsToken token;

  public OutputsEndpoint(Path root, KnownJobs jobs, OutputsToken token) {
    this.root = root;
    this.jobs = jobs;
    this.token = token;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
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
      send(ex, files, folder);
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

  private static void send(HttpExchange ex, List<Path> files, Path folder) throws IOException {
    ex.getResponseHeaders().add("Content-Type", "application/zip");
    ex.getResponseHeaders().add("Content-Disposition", "attachment; filename=\"outputs.zip\"");
    ex.sendResponseHeaders(200, 0); // streamed: the size is known once it is sent
    try (ZipOutputStream zip = new ZipOutputStream(ex.getResponseBody())) {
      zip.setLevel(Deflater.BEST_SPEED); // models and checkpoints hardly compress: spend little time trying
      for (Path file : files) {
        zip.putNextEntry(new ZipEntry(folder.relativize(file).toString().replace('\\', '/')));
        // a file swapped for a link since the listing is not followed either
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
          in.transferTo(zip);
        }
        zip.closeEntry();
      }
    } catch (IOException e) {
      // the client sees a zip that ends early and says the download was cut short
      LOG.warn("sending the outputs in {} stopped: {}", folder, e.getMessage());
    }
  }
}
