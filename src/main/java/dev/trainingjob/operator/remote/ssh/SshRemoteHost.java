package dev.trainingjob.operator.remote.ssh;

import dev.trainingjob.operator.remote.JobBundle;
import dev.trainingjob.operator.remote.Collected;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.MachineDuties;
import dev.trainingjob.operator.remote.ProbeResult;
import dev.trainingjob.operator.remote.RemoteCommandException;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.SshTarget;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.util.io.output.NoCloseOutputStream;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;

/**
 * The remote protocol over one SSH connection: files go up and come back over SFTP; the job is
 * started, probed and stopped by the scripts in {@code src/main/resources/remote}. Paths are
 * relative to the login user's home. User input travels only as file contents.
 */
final class SshRemoteHost implements RemoteHost {
  static final String[] SCRIPTS = {"driver.sh", "probe.sh", "start.sh", "stop.sh", "notice.sh", "hold.sh", "screenrc", "git-credential.sh"};
  /** Run as root to replace sshd's host key; not one of the job's scripts (it belongs to no job directory). */
  static final String REPLACE_HOST_KEY = "replace-host-key.sh";
  static final int PROBE_LOG_BYTES = 32 * 1024;

  private final SshRemoteHosts pool;
  private final SshTarget target;

  SshRemoteHost(SshRemoteHosts pool, SshTarget target) {
    this.pool = pool;
    this.target = target;
  }

  // ---- upload

  @Override
  public void upload(JobBundle bundle) throws Exception {
    String dir = bundle.job().directory();
    Map<String, byte[]> config = config(bundle);
    if (uploadAsArchive(bundle, dir, config)) {
      return;
    }
    withSftp(sftp -> {
      // a directory made by this upload holds nothing anyone reads yet (and no one else may enter it: 0700), so its files
      // are written in place; into a directory that was there (an upload cut short before), each goes beside its target
      // and replaces it. Four SFTP round trips a file instead of six, forty-odd files a job.
      boolean fresh = !exists(sftp, dir);
      if (!fresh && exists(sftp, dir + "/started")) {
        // the driver runs from these files: never written over (bash reads its script as it goes), whatever asked
        return null;
      }
      mkdirs(sftp, ".trainingjob", 0700);
      mkdirs(sftp, dir, 0700);
      mkdirs(sftp, dir + "/config", 0700);
      mkdirs(sftp, dir + "/job", 0700);
      for (String script : SCRIPTS) {
        put(sftp, dir + "/" + script, resource(script), 0700, fresh);
      }
      for (var e : config.entrySet()) {
        put(sftp, dir + "/config/" + e.getKey(), e.getValue(), 0600, fresh);
      }
      for (var e : bundle.files().entrySet()) {
        String name = safeRelative(e.getKey());
        int slash = name.lastIndexOf('/');
        if (slash > 0) {
          mkdirs(sftp, dir + "/job/" + name.substring(0, slash), 0700);
        }
        put(sftp, dir + "/job/" + name, e.getValue(), 0600, fresh);
      }
      return null;
    });
  }

  /**
   * A new job directory in one command: made (0700, the login user's alone) and filled by {@code tar -x} from an archive
   * on the command's input, with the files' modes (scripts 0700, the rest 0600); secrets travel in the archive, never on
   * a command line. False, having changed nothing, when the directory is there already (an upload cut short before, a
   * new run on the same machine: then each file is replaced whole over SFTP), when the machine has no tar, or when a name
   * does not fit the archive; a tar that fails leaves no directory behind, and the SFTP way is taken.
   */
  private boolean uploadAsArchive(JobBundle bundle, String dir, Map<String, byte[]> config) throws Exception {
    TarArchive tar = new TarArchive();
    tar.directory("config", 0700);
    tar.directory("job", 0700);
    for (String script : SCRIPTS) {
      tar.file(script, 0700, resource(script));
    }
    for (var e : config.entrySet()) {
      tar.file("config/" + e.getKey(), 0600, e.getValue());
    }
    for (var e : bundle.files().entrySet()) {
      String name = safeRelative(e.getKey());
      // each directory on the way, before its files (tar would make them with the umask's modes otherwise)
      for (int slash = name.indexOf('/'); slash > 0; slash = name.indexOf('/', slash + 1)) {
        tar.directory("job/" + name.substring(0, slash), 0700);
      }
      tar.file("job/" + name, 0600, e.getValue());
    }
    var archive = tar.bytes();
    if (archive.isEmpty()) {
      return false;
    }
    if (!dir.matches("[A-Za-z0-9._/-]+")) {
      return false; // a JobRef's directory never needs quoting; one that would goes the SFTP way
    }
    // every way out reads the archive to its end, so the sending side never writes into a closed channel: 3, the
    // directory is there (or another upload made it first); 4, no tar; 5, tar failed (what it unpacked removed); 6, the
    // home or .trainingjob cannot be entered or made. -m: the files get the machine's time, not this clock's.
    String command = "{ cd && umask 077 && mkdir -p .trainingjob; } || { cat >/dev/null; exit 6; }; "
        + "{ [ ! -e " + dir + " ] && [ ! -L " + dir + " ]; } || { cat >/dev/null; exit 3; }; "
        + "command -v tar >/dev/null 2>&1 || { cat >/dev/null; exit 4; }; "
        + "mkdir " + dir + " || { cat >/dev/null; exit 3; }; "
        + "tar -x -m -p -o -f - -C " + dir + " || { cat >/dev/null; rm -rf " + dir + "; exit 5; }";
    ExecResult r;
    try (var lease = pool.lease(target)) {
      try {
        r = execOnce(lease.session(), command, pool.settings().commandTimeout(), archive.get());
      } catch (IOException e) {
        if (!lease.session().isOpen()) {
          throw e; // the connection went: the next attempt finds the directory (if made) and replaces every file
        }
        // the command ended before it took the archive (a shell that does not read this syntax, say): the SFTP way
        org.slf4j.LoggerFactory.getLogger(SshRemoteHost.class).debug("{}: the archive upload did not run ({}); over SFTP",
            target, e.toString());
        return false;
      }
    }
    if (r.status() == 0) {
      return true;
    }
    var log = org.slf4j.LoggerFactory.getLogger(SshRemoteHost.class);
    if (r.status() == 5) {
      log.warn("{}: tar could not unpack the job's files ({}); uploading them one by one", target, r.stderr().strip());
    } else if (r.status() != 3) {
      log.debug("{}: the archive upload answered {} ({}); over SFTP", target, r.status(), r.stderr().strip());
    }
    return false;
  }

  /** The driver's inputs, one file each; lists are NUL-separated so no value is ever split or parsed. */
  private Map<String, byte[]> config(JobBundle b) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("session", utf8(b.job().sessionName()));
    files.put("entrypoint", utf8(safeRelative(b.entrypoint())));
    files.put("args", nulSeparated("argument", b.args()));
    List<String> env = new ArrayList<>();
    b.env().forEach((k, v) -> env.add(k + "=" + v));
    files.put("env", nulSeparated("environment value", env));
    files.put("bootstrap", utf8(b.python().bootstrap()));
    files.put("python_version", utf8(b.python().version() == null ? "" : b.python().version()));
    files.put("requirements.txt", utf8(lines("requirement", b.python().requirements())));
    files.put("conda_packages", nulSeparated("conda package", b.python().condaPackages()));
    files.put("git_url", utf8(b.git() == null ? "" : b.git().url()));
    files.put("git_ref", utf8(b.git() == null || b.git().ref() == null ? "" : b.git().ref()));
    // read by git-credential.sh and GIT_SSH_COMMAND, never passed on a command line; the driver removes them after the clone
    var creds = b.git() == null || b.git().credentials() == null ? null : b.git().credentials();
    files.put("git_username", utf8(creds == null || creds.username() == null ? "" : creds.username()));
    files.put("git_token", utf8(creds == null || creds.token() == null ? "" : creds.token().strip()));
    files.put("git_ssh_key", utf8(creds == null || creds.sshPrivateKey() == null ? "" : endWithNewline(creds.sshPrivateKey())));
    files.put("git_known_hosts", utf8(creds == null || creds.knownHosts() == null ? "" : endWithNewline(creds.knownHosts())));
    var duties = b.duties() == null ? MachineDuties.NONE : b.duties();
    files.put("guard_dir", utf8(duties.guardDirectory() == null ? "" : duties.guardDirectory()));
    files.put("guard_ceiling_seconds", utf8(duties.ceilingSeconds() == null ? "" : duties.ceilingSeconds().toString()));
    files.put("output_uri", utf8(duties.outputUri() == null ? "" : duties.outputUri()));
    files.put("output_paths", nulSeparated("output path", b.outputPaths().stream().map(p -> safeRelative(p.replaceAll("/+$", ""))).toList()));
    files.put("checkpoint_path", utf8(safeRelative(b.checkpoint().path())));
    files.put("checkpoint_uri", utf8(duties.checkpointUri() == null ? "" : duties.checkpointUri()));
    files.put("checkpoint_interval", utf8(Long.toString(b.checkpoint().syncIntervalSeconds())));
    files.put("metadata_url", utf8(duties.metadataUrl() == null ? "" : duties.metadataUrl()));
    var settings = pool.settings();
    files.put("stop_grace", utf8(Long.toString(settings.stopGrace().toSeconds())));
    files.put("miniforge_url", utf8(settings.miniforgeUrl() == null ? "" : settings.miniforgeUrl()));
    files.put("miniforge_sha256", utf8(settings.miniforgeSha256() == null ? "" : settings.miniforgeSha256().toLowerCase()));
    return files;
  }

  // ---- start, probe, stop, clean up

  @Override
  public boolean start(JobRef job, int attempt) throws Exception {
    ExecResult r = exec("cd && bash " + job.directory() + "/start.sh " + attempt, pool.settings().commandTimeout());
    return switch (r.status()) {
      case 0 -> true;
      // 5: a later attempt ran already (a status written before this one was lost): the probe tells which
      case 3, 5 -> false;
      case 4 -> throw new IOException(r.stderr().strip());
      default -> throw new RemoteCommandException(r.stderr().isBlank() ? "start.sh exited with " + r.status() : r.stderr().strip(),
          r.status());
    };
  }

  @Override
  public ProbeResult probe(JobRef job) throws Exception {
    String probe = job.directory() + "/probe.sh";
    LogWindow log = pool.log(job);
    LogWindow.Asked asked = log.asked();
    ExecResult r = exec("cd && if [ -f " + probe + " ]; then bash " + probe + " " + PROBE_LOG_BYTES + asked.args()
        + "; else echo '{\"state\":\"absent\"}'; fi", pool.settings().commandTimeout());
    if (r.status() != 0) {
      throw new IOException("probe.sh exited with " + r.status() + ": " + r.stderr().strip());
    }
    return ProbeParser.parse(r.stdout(), log, asked);
  }

  /**
   * Waits on the machine, on a channel of the pooled connection, until the job leaves the state {@code seen} (the driver
   * wrote another state word, or the exit), then runs the probe: the change is seen within a fifth of a second, with
   * nothing held here but the channel. The wait sleeps in bash's own {@code read} (no process started per look) on the
   * channel's input, which this side never writes to: when this side closes the channel (cancelled, the job released) the
   * read meets the end of its input and the wait ends on the machine too.
   */
  @Override
  public CompletableFuture<ProbeResult> awaitChange(JobRef job, ProbeResult.State seen, Duration bound) {
    SshRemoteHosts.Lease lease = pool.leaseForWait(target).orElse(null);
    if (lease == null) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("no connection to " + target
          + " with a channel to spare for a wait; the job is probed at its interval"));
    }
    CompletableFuture<ProbeResult> changed = new CompletableFuture<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LogWindow log = pool.log(job);
    LogWindow.Asked asked = log.asked();
    ChannelExec channel;
    try {
      channel = lease.session().createExecChannel("cd && exec bash -c '" + AWAIT_CHANGE + "' " + AWAIT_NAME + " "
          + job.directory() + " " + seen.word() + " " + Math.max(1, bound.toSeconds()) + " " + PROBE_LOG_BYTES + asked.args());
      channel.setOut(out);
      channel.setErr(new ByteArrayOutputStream());
      channel.addCloseFutureListener(closed -> {
        lease.close();
        Integer status = channel.getExitStatus();
        String text = out.toString(StandardCharsets.UTF_8).strip();
        if (status != null && status == 0 && text.startsWith("{")) {
          try {
            changed.complete(ProbeParser.parse(text, log, asked));
          } catch (IOException | RuntimeException unreadable) {
            changed.completeExceptionally(unreadable);
          }
        } else {
          changed.completeExceptionally(new IOException("the wait on " + target + " ended without a probe"));
        }
      });
      channel.open().addListener(opened -> {
        if (!opened.isOpened()) {
          channel.close(true); // refused (no channel to spare on the machine): the close above ends the wait
        }
      });
    } catch (IOException | RuntimeException e) {
      lease.close();
      return CompletableFuture.failedFuture(e);
    }
    changed.whenComplete((r, e) -> {
      if (changed.isCancelled()) {
        channel.close(false); // with a goodbye: the machine ends the wait's process when its channel closes
      }
    });
    return changed;
  }

  /** The wait's name on the machine ({@code $0}): what a person sees in ps. */
  static final String AWAIT_NAME = "tj-await-change";

  /**
   * The wait, as {@code bash -c} runs it with the job directory, the state word seen, the bound in seconds and the probe's
   * arguments (log bytes, and where the operator's log ends): look every fifth of a second (as probe.sh reads the state: "starting" until the driver wrote one) until the
   * exit is recorded, the state is another, or the bound passed; then probe. {@code read -t} times out (a status above
   * 128) while nothing comes; any other status is the end of its input: this side let go. No single quote in it.
   */
  private static final String AWAIT_CHANGE = """
      d=$1; seen=$2; end=$((SECONDS + $3))
      while [ ! -e "$d/exit_code" ] && [ "$SECONDS" -lt "$end" ]; do
        s=starting; [ -f "$d/state" ] && { IFS= read -r s < "$d/state"; } 2>/dev/null
        [ "$s" = "$seen" ] || break
        read -r -t 0.2 _; [ $? -gt 128 ] || exit 0
      done
      shift 3
      [ -f "$d/probe.sh" ] && exec bash "$d/probe.sh" "$@"
      """;

  @Override
  public void stop(JobRef job) throws Exception {
    Duration grace = pool.settings().stopGrace();
    String stop = job.directory() + "/stop.sh";
    // the grace for the script, as long again for the driver's copies, then a few seconds to end what is left
    ExecResult r = exec("cd && if [ -f " + stop + " ]; then bash " + stop + " " + grace.toSeconds() + "; fi",
        grace.multipliedBy(2).plus(pool.settings().commandTimeout()));
    if (r.status() != 0) {
      throw new IOException("stop.sh exited with " + r.status() + ": " + r.stderr().strip());
    }
  }

  @Override
  public void hold(JobRef job, long ceilingEpochSecond) throws Exception {
    holdScript(job, "shell", ceilingEpochSecond);
  }

  @Override
  public void keepUntil(JobRef job, long ceilingEpochSecond) throws Exception {
    holdScript(job, "ceiling", ceilingEpochSecond);
  }

  private void holdScript(JobRef job, String mode, long ceilingEpochSecond) throws Exception {
    String hold = job.directory() + "/hold.sh";
    ExecResult r = exec("cd && bash " + hold + " " + mode + " " + ceilingEpochSecond, pool.settings().commandTimeout());
    if (r.status() != 0) {
      throw new RemoteCommandException(r.stderr().isBlank() ? "hold.sh exited with " + r.status() : r.stderr().strip(), r.status());
    }
  }

  @Override
  public void cleanup(JobRef job) throws Exception {
    pool.forgetLog(job);
    ExecResult r = exec("cd && rm -rf -- " + job.directory(), pool.settings().commandTimeout());
    if (r.status() != 0) {
      throw new IOException("could not remove " + job.directory() + ": " + r.stderr().strip());
    }
  }

  @Override
  public void renew(JobRef job, String run) throws Exception {
    if (!run.matches("[A-Za-z0-9-]{1,32}")) {
      throw new IllegalArgumentException("not a run name: " + run);
    }
    String dir = job.directory();
    // the directory's own scripts are the last run's (perhaps an older operator's): this one's renew.sh goes up first
    boolean present = withSftp(sftp -> {
      if (!exists(sftp, dir)) {
        return false;
      }
      put(sftp, dir + "/renew.sh", resource("renew.sh"), 0700);
      return true;
    });
    // the new run's output.log is another file, whatever number the file system gives it
    pool.forgetLog(job);
    if (!present) {
      return; // nothing to clear: the new run's files go up as on a new machine
    }
    ExecResult r = exec("cd && bash " + dir + "/renew.sh " + run, pool.settings().commandTimeout());
    if (r.status() == 4) {
      throw new IOException(r.stderr().strip()); // the last run's processes are still stopping: tried again
    }
    if (r.status() != 0) {
      throw new RemoteCommandException(r.stderr().isBlank() ? "renew.sh exited with " + r.status() : r.stderr().strip(), r.status());
    }
  }

  // ---- collect

  @Override
  public Collected collect(JobRef job, List<String> paths, Path destination, long maxBytes) throws Exception {
    Path root = destination.toAbsolutePath().normalize();
    Files.createDirectories(root);
    return withSftp(sftp -> {
      List<String> saved = new ArrayList<>();
      List<String> missing = new ArrayList<>();
      List<String> cut = new ArrayList<>();
      long[] left = {maxBytes};
      for (String path : paths) {
        String rel = safeRelative(path.replaceAll("/+$", ""));
        switch (download(sftp, job.directory() + "/job/" + rel, root, rel, left)) {
          case WHOLE -> saved.add(path);
          case ABSENT -> missing.add(path);
          case CUT -> cut.add(path);
        }
      }
      return new Collected(saved, missing, cut);
    });
  }

  private enum Got { WHOLE, ABSENT, CUT }

  /**
   * Copies a file or a directory tree while the size bound ({@code left}, bytes) allows: a file that would pass it is left on
   * the machine. Symbolic links are skipped so nothing outside the job leaks out.
   */
  private static Got download(SftpClient sftp, String remote, Path root, String rel, long[] left) throws IOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new java.io.InterruptedIOException("collecting " + rel + " was stopped (the collect deadline passed)");
    }
    SftpClient.Attributes attrs;
    try {
      attrs = sftp.lstat(remote);
    } catch (SftpException e) {
      if (e.getStatus() == SftpConstants.SSH_FX_NO_SUCH_FILE) {
        return Got.ABSENT; // an output the script did not write: the status names it
      }
      throw e;
    }
    Path local = root.resolve(rel).normalize();
    if (!local.startsWith(root)) {
      throw new IOException("refusing to write outside " + root + ": " + rel);
    }
    if (attrs.isDirectory()) {
      Files.createDirectories(local);
      Got all = Got.WHOLE;
      for (SftpClient.DirEntry entry : sftp.readDir(remote)) {
        String name = entry.getFilename();
        if (!name.equals(".") && !name.equals("..") && download(sftp, remote + "/" + name, root, rel + "/" + name, left) == Got.CUT) {
          all = Got.CUT;
        }
      }
      return all;
    }
    if (!attrs.isRegularFile()) {
      return Got.ABSENT; // a symbolic link or a device: nothing is collected for it
    }
    long size = attrs.getSize();
    if (size > left[0]) {
      return Got.CUT;
    }
    left[0] -= size;
    Files.createDirectories(local.getParent());
    // no more than the size the bound was judged by, should the file still grow
    try (InputStream in = sftp.read(remote); var out = Files.newOutputStream(local)) {
      byte[] buffer = new byte[64 * 1024];
      long copied = 0;
      for (int n; copied < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - copied))) > 0; copied += n) {
        if (Thread.currentThread().isInterrupted()) {
          throw new java.io.InterruptedIOException("collecting " + rel + " was stopped (the collect deadline passed)");
        }
        out.write(buffer, 0, n);
      }
    }
    return Got.WHOLE;
  }

  // ---- logs and tunnels (the kubectl plugin)

  @Override
  public void streamLog(JobRef job, boolean follow, OutputStream out, BooleanSupplier keepGoing) throws Exception {
    String log = job.directory() + "/output.log";
    String command = "cd && if [ -f " + log + " ]; then exec tail -c +1 " + (follow ? "-F " : "") + log
        + "; else echo 'no output.log yet' >&2; exit 3; fi";
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (var lease = pool.lease(target); ChannelExec channel = lease.session().createExecChannel(command)) {
      channel.setOut(new NoCloseOutputStream(out));
      channel.setErr(err);
      channel.open().verify(pool.settings().connectTimeout());
      while (keepGoing.getAsBoolean()) {
        var events = channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), 250);
        if (events.contains(ClientChannelEvent.CLOSED)) {
          break;
        }
      }
      Integer status = channel.getExitStatus();
      if (status != null && status != 0) {
        throw new IOException(err.toString(StandardCharsets.UTF_8).strip());
      }
    }
  }

  @Override
  public PortForward forward(int localPort, int remotePort) throws Exception {
    // the connection is lent for the tunnel's life: a tunnel nobody sends through is not an idle connection
    var lease = pool.lease(target);
    try {
      var tracker = lease.session().createLocalPortForwardingTracker(
          new SshdSocketAddress("127.0.0.1", localPort), new SshdSocketAddress("127.0.0.1", remotePort));
      int bound = tracker.getBoundAddress().getPort();
      return new PortForward() {
        @Override
        public int localPort() {
          return bound;
        }

        @Override
        public void close() throws IOException {
          try {
            tracker.close();
          } finally {
            lease.close();
          }
        }
      };
    } catch (IOException | RuntimeException e) {
      lease.close();
      throw e;
    }
  }

  // ---- the machine's host key

  @Override
  public PublicKey hostKey() throws Exception {
    try (var lease = pool.lease(target)) {
      return lease.session().getServerKey();
    }
  }

  @Override
  public PublicKey stageHostKey() throws Exception {
    String line = asRoot("stage").strip();
    try {
      return SshKeys.publicKey(line);
    } catch (Exception e) {
      throw new RemoteCommandException(REPLACE_HOST_KEY + " stage printed no public key: " + line, 2);
    }
  }

  @Override
  public void installHostKey(PublicKey next) throws Exception {
    asRoot("install '" + SshKeys.publicLine(next) + "'"); // base64 and a type name: nothing to escape
  }

  /** Runs replace-host-key.sh as root with {@code args} (shell words), once, on this connection; its standard output. */
  private String asRoot(String args) throws Exception {
    // the script goes up like the job's (nothing secret in it); keys are made and kept on the machine
    String script = ".trainingjob/" + REPLACE_HOST_KEY;
    withSftp(sftp -> {
      mkdirs(sftp, ".trainingjob", 0700);
      put(sftp, script, resource(REPLACE_HOST_KEY), 0700);
      return null;
    });
    String command = "cd && if [ \"$(id -u)\" -eq 0 ]; then /bin/sh \"$HOME/" + script + "\" " + args
        + "; else sudo -n /bin/sh \"$HOME/" + script + "\" " + args + "; fi";
    // once, on this connection: a retry on a new one could meet the new key this very command installed
    ExecResult r;
    try (var lease = pool.lease(target)) {
      r = execOnce(lease.session(), command, pool.settings().commandTimeout(), null);
    }
    if (r.status() != 0) {
      throw new RemoteCommandException(r.stderr().isBlank() ? REPLACE_HOST_KEY + " exited with " + r.status() : r.stderr().strip(),
          r.status());
    }
    return r.stdout();
  }

  @Override
  public void close() {
    // the connection belongs to the pool and is reused
  }

  // ---- transport

  record ExecResult(int status, String stdout, String stderr) {}

  /** Runs a command; a dropped connection is reopened and the command tried once more. */
  ExecResult exec(String command, Duration timeout) throws Exception {
    try (var lease = pool.lease(target)) {
      try {
        return execOnce(lease.session(), command, timeout, null);
      } catch (IOException e) {
        if (lease.session().isOpen()) {
          throw e;
        }
        pool.discard(target, lease.session());
      }
    }
    try (var lease = pool.lease(target)) {
      return execOnce(lease.session(), command, timeout, null);
    }
  }

  /** One command on one connection; {@code input}, when given, is its whole standard input. */
  private ExecResult execOnce(ClientSession session, String command, Duration timeout, byte[] input) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ChannelExec channel = session.createExecChannel(command)) {
      channel.setOut(out);
      channel.setErr(err);
      try {
        channel.open().verify(timeout);
      } catch (IOException e) {
        replaceIfHung(session);
        throw e;
      }
      if (input != null) {
        try (OutputStream in = channel.getInvertedIn()) { // closing it sends EOF: the command reads to the end
          in.write(input);
        }
      }
      var events = channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED, ClientChannelEvent.EXIT_STATUS), timeout.toMillis());
      if (events.contains(ClientChannelEvent.TIMEOUT)) {
        replaceIfHung(session);
        throw new IOException("command timed out after " + timeout.toSeconds() + "s on " + target);
      }
      channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), Duration.ofSeconds(5).toMillis());
      Integer status = channel.getExitStatus();
      if (status == null) {
        throw new IOException("the connection to " + target + " closed before the command finished");
      }
      return new ExecResult(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
  }

  /**
   * After a command that did not answer in time: one that is slow on the machine leaves the connection to the others, but
   * a connection that hangs is replaced at once, so the probes after this one do not each wait out their timeout on it.
   */
  private void replaceIfHung(ClientSession session) {
    // as long as a new connection would have to answer in
    if (session.isOpen() && !SshRemoteHosts.answers(session, pool.settings().connectTimeout())) {
      pool.discard(target, session);
    }
  }

  interface SftpWork<T> {
    T run(SftpClient sftp) throws IOException;
  }

  private <T> T withSftp(SftpWork<T> work) throws Exception {
    try (var lease = pool.lease(target)) {
      ClientSession session = lease.session();
      try (SftpClient sftp = SftpClientFactory.instance().createSftpClient(session)) {
        return work.run(sftp);
      } catch (IOException e) {
        if (!session.isOpen()) {
          pool.discard(target, session);
        }
        throw e;
      }
    }
  }

  private static boolean exists(SftpClient sftp, String path) throws IOException {
    try {
      sftp.lstat(path);
      return true;
    } catch (SftpException e) {
      if (e.getStatus() == SftpConstants.SSH_FX_NO_SUCH_FILE) {
        return false;
      }
      throw e;
    }
  }

    private static void mkdirs(SftpClient sftp, String path, int mode) throws IOException {
    StringBuilder at = new StringBuilder();
    for (String part : path.split("/")) {
      at.append(at.length() == 0 ? "" : "/").append(part);
      try {
        sftp.lstat(at.toString());
      } catch (SftpException e) {
        if (e.getStatus() != SftpConstants.SSH_FX_NO_SUCH_FILE) {
          throw e;
        }
        sftp.mkdir(at.toString());
        sftp.setStat(at.toString(), new SftpClient.Attributes().perms(mode));
      }
    }
  }

  /**
   * Writes beside the target, then replaces it: a running reader keeps the old file whole. {@code inPlace}: the file is
   * new in a directory nobody reads yet, and is written where it goes.
   */
  private static void put(SftpClient sftp, String path, byte[] content, int mode, boolean inPlace) throws IOException {
    if (inPlace) {
      try (OutputStream out = sftp.write(path)) {
        out.write(content);
      }
      sftp.setStat(path, new SftpClient.Attributes().perms(mode));
      return;
    }
    put(sftp, path, content, mode);
  }

  /** Writes beside the target, then replaces it: a running reader keeps the old file whole. */
  private static void put(SftpClient sftp, String path, byte[] content, int mode) throws IOException {
    String tmp = path + ".upload";
    try (OutputStream out = sftp.write(tmp)) {
      out.write(content);
    }
    sftp.setStat(tmp, new SftpClient.Attributes().perms(mode));
    try {
      sftp.remove(path);
    } catch (SftpException e) {
      if (e.getStatus() != SftpConstants.SSH_FX_NO_SUCH_FILE) {
        throw e;
      }
    }
    sftp.rename(tmp, path);
  }

  /** Defence in depth (the validator checks first): a path that stays inside the job directory. */
  static String safeRelative(String path) {
    String p = path.startsWith("./") ? path.substring(2) : path;
    if (p.isEmpty() || p.startsWith("/") || p.contains("\0") || p.contains("\\")
        || List.of(p.split("/")).contains("..")) {
      throw new IllegalArgumentException("not a path inside the job directory: " + path);
    }
    return p;
  }

  private static byte[] resource(String name) {
    try (InputStream in = SshRemoteHost.class.getResourceAsStream("/remote/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource /remote/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** OpenSSH reads a private key only up to its last line end: a key pasted without one is refused as "invalid format". */
  private static String endWithNewline(String s) {
    return s.isEmpty() || s.endsWith("\n") ? s : s + "\n";
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] nulSeparated(String what, List<String> items) {
    StringBuilder sb = new StringBuilder();
    for (String item : items) {
      if (item.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("an " + what + " contains a NUL character, which no program can receive");
      }
      sb.append(item).append('\0');
    }
    return utf8(sb.toString());
  }

  private static String lines(String what, List<String> items) {
    for (String item : items) {
      if (item.contains("\n") || item.contains("\r")) {
        throw new IllegalArgumentException("a " + what + " contains a line break: " + item.lines().findFirst().orElse(""));
      }
    }
    return items.isEmpty() ? "" : String.join("\n", items) + "\n";
  }
}
