package dev.trainingjob.operator.provider.local;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The local provider's working root holds the key that logs in to every local job and each job's files, so only the
 * operator's user may enter it. It is made 0700 in one step (mkdir with the mode: never open, not even for an instant); one that exists is
 * used only if it is a directory (not a link) of this user with mode 0700: anything else may be someone else's, made in
 * advance at a name they could guess, and is refused rather than repaired.
 */
final class LocalWorkRoot {
  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

  private LocalWorkRoot() {}

  /** The root, absolute, made or checked. */
  static Path prepare(Path root) throws IOException {
    Path dir = root.toAbsolutePath().normalize();
    if (dir.getParent() != null) {
      Files.createDirectories(dir.getParent());
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      // ours since this instant, and never more open than 0700: a umask can only have taken bits away
      Files.setPosixFilePermissions(dir, OWNER_ONLY);
    } catch (FileAlreadyExistsException e) {
      // made before: by an earlier run of this operator, or by someone else; the checks below tell which
    }
    check(dir);
    return dir;
  }

  /** Refuses a root that is not a directory of this user with mode 0700 (also what the plugin reads the key from). */
  static void check(Path dir) throws IOException {
    PosixFileAttributes attributes = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    String fix = "; remove it, or choose another --local-work-root";
    if (!attributes.isDirectory()) {
      throw new IOException("the local work root " + dir + " is not a directory (" + (attributes.isSymbolicLink() ? "a symbolic link"
          : "a file") + ")" + fix);
    }
    long owner = ((Number) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
    long self = new UnixSystem().getUid();
    if (owner != self) {
      throw new IOException("the local work root " + dir + " belongs to user id " + owner + ", not to this operator's (" + self + ")"
          + fix);
    }
    if (!attributes.permissions().equals(OWNER_ONLY)) {
      throw new IOException("the local work root " + dir + " has mode " + PosixFilePermissions.toString(attributes.permissions())
          + ", not rwx------: others could read the operator's key or the jobs' files" + fix + " (or chmod 700 it, if it is yours)");
    }
  }
}
