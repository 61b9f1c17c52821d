package dev.trainingjob.operator.cli.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The folder `outputs` writes into, which no name from the server can leave: a name is a relative path of plain
 * segments (no "..", ".", empty segment, backslash or absolute path), resolved and checked to stay under the folder
 * after any link already in it; a file that exists is never replaced. Each file is written beside its place and moved
 * there once complete, so a download cut short leaves no truncated file that looks whole.
 */
final class DownloadFolder {
  /** A file written: its name under the folder and its size. */
  record Written(String name, long bytes) {}

  private final Path root;
  private final List<Written> written = new ArrayList<>();

  private DownloadFolder(Path root) {
    this.root = root;
  }

  /** The folder, made when missing; one that exists must be a folder. */
  static DownloadFolder at(Path folder) {
    Path root = folder.toAbsolutePath().normalize();
    try {
      Files.createDirectories(root);
      return new DownloadFolder(root.toRealPath());
    } catch (FileAlreadyExistsException e) {
      throw new PluginException(root + " exists and is not a folder: choose another --to");
    } catch (IOException e) {
      throw new PluginException("cannot make " + root + ": " + e.getMessage());
    }
  }

  Path root() {
    return root;
  }

  List<Written> written() {
    return Collections.unmodifiableList(written);
  }

  /** Writes {@code content} to {@code name} under the folder (where {@code source} said it belongs). */
  void write(String name, InputStream content, String source) throws IOException {
    Path target = resolve(name, source);
    // a link already in the folder could lead elsewhere: each folder on the way is checked before one is made in it
    Path dir = root;
    for (Path segment : root.relativize(target.getParent())) {
      dir = dir.resolve(segment);
      if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectory(dir);
      } else if (!dir.toRealPath().startsWith(root)) {
        throw new PluginException("refusing to write " + name + " from " + source + ": " + dir + " leads outside " + root);
      }
    }
    if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new PluginException("refusing to overwrite " + target + ": it exists (remove it, or choose another --to)");
    }
    Path part = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part");
    try {
      long bytes = Files.copy(content, part, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      if (Files.getFileStore(part).supportsFileAttributeView(PosixFileAttributeView.class)) {
        // a temporary file is made private (0600); a downloaded one is as any file the person makes (umask 022)
        Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rw-r--r--"));
      }
      Files.move(part, target); // no REPLACE_EXISTING: a file that appeared meanwhile is kept
      written.add(new Written(root.relativize(target).toString(), bytes));
    } catch (FileAlreadyExistsException e) {
      throw new PluginException("refusing to overwrite " + target + ": it exists (remove it, or choose another --to)");
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /**
   * Removes the files this download wrote: one that failed part way must not leave some of them looking like the whole
   * set. Folders it made stay (empty); nothing that was there before is touched.
   */
  void discard() {
    for (Written file : written) {
      try {
        Files.deleteIfExists(root.resolve(file.name()));
      } catch (IOException e) {
        // the error that stopped the download is what the person needs to read; a file left is named by a next try
      }
    }
    written.clear();
  }

  private Path resolve(String name, String source) {
    boolean plain = !name.isEmpty() && !name.startsWith("/") && !name.contains("\\") && !name.contains("\0");
    for (String segment : name.split("/", -1)) {
      plain &= !segment.isEmpty() && !segment.equals(".") && !segment.equals("..");
    }
    Path target = root.resolve(name).normalize();
    if (!plain || !target.startsWith(root) || target.equals(root)) {
      throw new PluginException("refusing " + source + "'s file name " + quoted(name) + ": it is not a path inside " + root);
    }
    return target;
  }

  private static String quoted(String name) {
    return "\"" + name.replaceAll("\\p{Cntrl}", "?") + "\"";
  }
}
