package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PythonSpec {
  public static final String SYSTEM = "system";
  public static final String VENV = "venv";
  public static final String CONDA = "conda";

  @Pattern("^(system|venv|conda)$")
  @JsonPropertyDescription("How Python is prepared: system (the machine's python3), venv (a virtual environment made once), "
      + "or conda (Miniforge installed once under the home directory). Default: system.")
  public String bootstrap;

  @JsonPropertyDescription("The Python version for a conda environment, for example 3.11.")
  public String version;

  @JsonPropertyDescription("pip requirement specifiers installed before the script runs, for example torch==2.4.0.")
  public List<String> requirements;

  @JsonPropertyDescription("Packages installed into the conda environment with conda (bootstrap conda only).")
  public List<String> condaPackages;

  /** The bootstrap mode, with the default applied. */
  public static String bootstrapOf(PythonSpec python) {
    return python == null || python.bootstrap == null || python.bootstrap.isBlank() ? SYSTEM : python.bootstrap;
  }
}
