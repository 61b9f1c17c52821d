package dev.trainingjob.operator.fake.ec2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * What cloud-init reads in a #cloud-config document, for the parts the operator writes: the users and
 * their authorised keys, the host key, and bootcmd. Parsed as YAML, as cloud-init does, so a quoting
 * mistake in the user data fails here as it would on an instance.
 */
final class FakeCloudInit {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private final JsonNode doc;

  FakeCloudInit(String userData) {
    try {
      JsonNode parsed = userData.isBlank() ? null : YAML.readTree(userData);
      doc = parsed == null ? YAML.createObjectNode() : parsed;
    } catch (IOException e) {
      throw new UncheckedIOException("the user data is not YAML cloud-init could read", e);
    }
  }

  /** The user the document creates besides the image's default one; null when none. */
  String namedUser() {
    for (JsonNode user : doc.path("users")) {
      if (user.isObject()) {
        return user.path("name").asText(null);
      }
    }
    return null;
  }

  List<String> authorizedKeys() {
    List<String> keys = new ArrayList<>();
    doc.path("ssh_authorized_keys").forEach(k -> keys.add(k.asText()));
    doc.path("users").forEach(u -> u.path("ssh_authorized_keys").forEach(k -> keys.add(k.asText())));
    return keys;
  }

  KeyPair hostKey() throws Exception {
    String pem = hostKeyText();
    var keys = SecurityUtils.loadKeyPairIdentities(null, () -> "user-data",
        new ByteArrayInputStream(pem.getBytes(StandardCharsets.UTF_8)), null);
    return keys.iterator().next();
  }

  /** The host's private key as the user data carries it, which cloud-init writes to sshd's key file. */
  String hostKeyText() {
    String pem = doc.path("ssh_keys").path("ed25519_private").asText("");
    if (pem.isEmpty()) {
      throw new IllegalStateException("the user data carries no ed25519 host key");
    }
    return pem;
  }

  /**
   * bootcmd as cloud-init runs it on every boot: one shell script for /bin/sh, a string item as written and a
   * list item with each word single-quoted (cloud-init's util.shellify); null when there is none.
   */
  String bootcmdScript() {
    JsonNode items = doc.path("bootcmd");
    if (!items.isArray() || items.isEmpty()) {
      return null;
    }
    StringBuilder sh = new StringBuilder("#!/bin/sh\n");
    for (JsonNode item : items) {
      if (item.isArray()) {
        List<String> words = new ArrayList<>();
        item.forEach(w -> words.add("'" + w.asText().replace("'", "'\\''") + "'"));
        sh.append(String.join(" ", words)).append('\n');
      } else {
        sh.append(item.asText()).append('\n');
      }
    }
    return sh.toString();
  }
}
