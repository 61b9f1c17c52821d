package dev.trainingjob.operator.remote.ssh;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The last bytes of one job's output.log as the operator has them, so a probe sends only what is new (probe.sh's
 * LOG_FROM and LOG_ID): the window is the file's bytes from {@code start} to {@code end} of the file whose inode is
 * {@code id}. Kept in memory only; an operator that knows nothing (new, restarted) asks for the tail. Several probes of
 * one job may be out at once (a probe and a wait on the machine), each asked from where the window ended then: what
 * they bring is the file's bytes at their offsets, so an overlap is the same bytes, and only what goes past the end is
 * added.
 */
final class LogWindow {
  private final int capacity;
  private String id;
  private long start;
  private long end = -1;
  private byte[] bytes = new byte[0];

  LogWindow(int capacity) {
    this.capacity = capacity;
  }

  /** Where a probe asks from: the end of the window and its file, or nothing known (the tail). */
  record Asked(long from, String id) {
    static final Asked TAIL = new Asked(-1, null);

    /** probe.sh's arguments after LOG_BYTES: none for the tail. */
    String args() {
      return from < 0 || id == null ? "" : " " + from + " " + id;
    }
  }

  synchronized Asked asked() {
    return end < 0 || id == null ? Asked.TAIL : new Asked(end, id);
  }

  /**
   * Adds what a probe asked as {@code asked} brought: {@code data}, the bytes of the file {@code fileId} from {@code from}
   * on ({@code from} null from a probe.sh of an older operator, which sends the tail and no offset). The probe either went
   * on from where it was asked, or sent the tail (nothing was known, more was new than it sends, the file is shorter than
   * asked); a tail replaces the window. Returns the window's text.
   */
  synchronized String add(Asked asked, Long from, String fileId, byte[] data) {
    if (from == null || fileId == null || fileId.isEmpty()) {
      replace(null, -1, data); // a tail whose place in the file is not known: the next probe asks for the tail again
    } else if (from != asked.from() || !fileId.equals(asked.id()) || !fileId.equals(id) || end < 0 || from > end) {
      replace(fileId, from, data);
    } else if (from + data.length > end) {
      int skip = (int) (end - from); // what another probe of the same bytes added meanwhile
      byte[] joined = Arrays.copyOf(bytes, bytes.length + data.length - skip);
      System.arraycopy(data, skip, joined, bytes.length, data.length - skip);
      bytes = joined;
      end = from + data.length;
      trim();
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private void replace(String fileId, long from, byte[] data) {
    id = fileId;
    start = from;
    bytes = data;
    end = from < 0 ? -1 : from + data.length;
    trim();
  }

  private void trim() {
    if (bytes.length > capacity) {
      start += bytes.length - capacity;
      bytes = Arrays.copyOfRange(bytes, bytes.length - capacity, bytes.length);
    }
  }
}
