package dev.trainingjob.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/** deploy/argocd/health.lua run as Argo CD runs it (obj = the resource), on the cases of its health_test.yaml. */
class HealthLuaTest {
  static final Path DIR = Path.of("deploy/argocd");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  record Case(String input, String status, String message) {
    @Override
    public String toString() {
      return input + " -> " + status;
    }
  }

  static Stream<Case> cases() throws Exception {
    List<Case> out = new ArrayList<>();
    for (JsonNode t : YAML.readTree(DIR.resolve("health_test.yaml").toFile()).get("tests")) {
      out.add(new Case(t.get("inputPath").asText(), t.at("/healthStatus/status").asText(), t.at("/healthStatus/message").asText()));
    }
    return out.stream();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void healthOf(Case c) throws Exception {
    Globals lua = JsePlatform.standardGlobals();
    lua.set("obj", toLua(YAML.readTree(DIR.resolve(c.input()).toFile())));
    LuaValue result = lua.load(Files.readString(DIR.resolve("health.lua")), "health.lua").call();
    assertThat(result.get("status").tojstring()).isEqualTo(c.status());
    assertThat(result.get("message").tojstring()).isEqualTo(c.message());
  }

  /** JSON as Argo CD hands it to Lua: objects and arrays as tables, numbers as numbers. */
  static LuaValue toLua(JsonNode node) {
    if (node.isObject()) {
      LuaTable t = new LuaTable();
      node.fields().forEachRemaining(e -> t.set(e.getKey(), toLua(e.getValue())));
      return t;
    }
    if (node.isArray()) {
      LuaTable t = new LuaTable();
      for (int i = 0; i < node.size(); i++) {
        t.set(i + 1, toLua(node.get(i)));
      }
      return t;
    }
    if (node.isNumber()) {
      return LuaValue.valueOf(node.asDouble());
    }
    if (node.isBoolean()) {
      return LuaValue.valueOf(node.asBoolean());
    }
    return node.isNull() ? LuaValue.NIL : LuaValue.valueOf(node.asText());
  }
}
