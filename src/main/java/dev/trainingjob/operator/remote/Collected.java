package dev.trainingjob.operator.remote;

import java.util.List;

/**
 * What collecting a job's outputs got, by the output paths the spec names.
 *
 * @param saved the paths downloaded whole (a directory with everything in it)
 * @param missing the paths the script did not write
 * @param cut the paths downloaded only in part, or not at all, because the size bound was reached first
 */
public record Collected(List<String> saved, List<String> missing, List<String> cut) {
  public Collected {
    saved = List.copyOf(saved);
    missing = List.copyOf(missing);
    cut = List.copyOf(cut);
  }
}
