package dev.trainingjob.operator.remote;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to reach one job's machine: what a program connects with, and the command a person types to
 * attach a terminal to the job's screen session. Both come out of one resolution, so they never
 * disagree (a restarted operator's local SSH server listens on a new port: both move together).
 *
 * @param target what the operator and the plugin connect with
 * @param attachCommand the shell command shown in status.attachCommand
 */
public record MachineAccess(SshTarget target, String attachCommand) {
  private static final Pattern PLAIN_WORD = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

  public MachineAccess {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(attachCommand, "attachCommand");
  }

  /** The access to {@code target}, with the attach command for the job's screen session. */
  public static MachineAccess of(SshTarget target, JobRef job, KeyHint hint) {
    return new MachineAccess(target, attachCommand(target.user(), target.host(), target.port(), job.sessionName(), hint));
  }

  /**
   * Where the person attaching gets the login key (and the host key) from.
   *
   * @param prepare shell text run before ssh (fetching the key), or null
   * @param sshOptions ssh's options for them, one argument each
   */
  public record KeyHint(String prepare, List<String> sshOptions) {
    public KeyHint {
      sshOptions = List.copyOf(sshOptions);
    }

    /** Their own key and known_hosts: a machine they log in to already. */
    public static KeyHint own() {
      return new KeyHint(null, List.of());
    }

    /** A key file and a known_hosts file on the computer where ssh runs; nothing else is offered or trusted. */
    public static KeyHint files(Path key, Path knownHosts) {
      return new KeyHint(null, List.of("-i", key.toString(), "-o", "IdentitiesOnly=yes",
          "-o", "UserKnownHostsFile=" + knownHosts, "-o", "StrictHostKeyChecking=yes"));
    }

    /**
     * The login key from a Secret (read with the person's own kubectl), written to {@code file} first: a new file,
     * made 0600 by the umask of a subshell before the key's first byte (a chmod after would leave it readable to
     * others meanwhile, and a file that existed would keep its mode through the redirect).
     */
    public static KeyHint secret(String namespace, String secret, String field, String file) {
      String f = shellWord(file);
      return new KeyHint("rm -f " + f + " && (umask 077 && kubectl -n " + shellWord(namespace) + " get secret " + shellWord(secret)
          + " -o jsonpath=" + shellWord("{.data." + field + "}") + " | base64 -d > " + f + ")",
          List.of("-i", file));
    }
  }

  /**
   * Like {@link KeyHint#secret}, and the host key to expect from the same Secret, written as the only line of a
   * known_hosts file of its own: ssh then checks the machine against it and trusts nothing on first use.
   */
  public static KeyHint secretWithHostKey(String namespace, String secret, String keyField, String keyFile,
      String hostKeyField, String knownHostsFile, String host, int port) {
    KeyHint key = KeyHint.secret(namespace, secret, keyField, keyFile);
    String k = shellWord(knownHostsFile);
    String hostWord = shellWord(port == 22 ? host : "[" + host + "]:" + port);
    String prepare = key.prepare() + " && rm -f " + k + " && (umask 077 && printf '%s ' " + hostWord + " > " + k + " && kubectl -n "
        + shellWord(namespace) + " get secret " + shellWord(secret) + " -o jsonpath=" + shellWord("{.data." + hostKeyField + "}")
        + " | base64 -d >> " + k + ")";
    return new KeyHint(prepare, List.of("-i", keyFile, "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=" + knownHostsFile,
        "-o", "StrictHostKeyChecking=yes"));
  }

  /** The ssh command line that attaches to a screen session, one argument each (to run without a shell). */
  public static List<String> attachArgv(String user, String host, int port, String session, KeyHint hint) {
    List<String> argv = new ArrayList<>();
    argv.add("ssh");
    argv.addAll(hint.sshOptions());
    // -t after the destination, as people write it; OpenSSH reads options on both sides of it
    argv.addAll(List.of("-p", String.valueOf(port), user + "@" + host, "-t", "screen", "-r", session));
    return argv;
  }

  /** The same command as one line of shell, after whatever the hint prepares. */
  public static String attachCommand(String user, String host, int port, String session, KeyHint hint) {
    String ssh = String.join(" ", attachArgv(user, host, port, session, hint).stream().map(MachineAccess::shellWord).toList());
    return hint.prepare() == null ? ssh : hint.prepare() + " && " + ssh;
  }

  /** A word as a POSIX shell reads it back unchanged: as it is when plain, in single quotes otherwise. */
  static String shellWord(String word) {
    if (PLAIN_WORD.matcher(word).matches()) {
      return word;
    }
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
