package dev.trainingjob.operator.support;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds a real, minimal pure-Python wheel (no package index is reachable here). */
public final class Wheels {
  private Wheels() {}

  public static Path build(Path dir, String name, String version, String initPy) throws Exception {
    Files.createDirectories(dir);
    String info = name + "-" + version + ".dist-info";
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(name + "/__init__.py", initPy.getBytes(StandardCharsets.UTF_8));
    files.put(info + "/METADATA", ("Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n").getBytes(StandardCharsets.UTF_8));
    files.put(info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: trainingjob-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        .getBytes(StandardCharsets.UTF_8));
    StringBuilder record = new StringBuilder();
    for (var e : files.entrySet()) {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(e.getValue());
      record.append(e.getKey()).append(",sha256=").append(Base64.getUrlEncoder().withoutPadding().encodeToString(digest))
          .append(',').append(e.getValue().length).append('\n');
    }
    record.append(info).append("/RECORD,,\n");
    files.put(info + "/RECORD", record.toString().getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (var e : files.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
    Path wheel = dir.resolve(name + "-" + version + "-py3-none-any.whl");
    Files.write(wheel, bytes.toByteArray());
    return wheel;
  }
}
