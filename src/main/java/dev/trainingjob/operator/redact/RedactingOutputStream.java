package dev.trainingjob.operator.redact;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * A stream of log text masked line by line before it reaches {@code out}: a line is held until
 * its end (a newline, or a carriage return, with which progress bars redraw) and then written
 * through one {@link LogRedactor}, which remembers an open PEM block across lines. What is written
 * here may arrive from another thread (an SSH channel's): every method is synchronized.
 */
public final class RedactingOutputStream extends OutputStream {
  /** A line longer than this is masked and written in pieces, so a stream without line ends cannot exhaust memory. */
  static final int MAX_LINE_BYTES = 1 << 20;

  private final OutputStream out;
  private final LogRedactor redactor;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();

  public RedactingOutputStream(OutputStream out, Collection<String> secretValues) {
    this.out = out;
    this.redactor = new LogRedactor(secretValues);
  }

  @Override
  public synchronized void write(int b) throws IOException {
    if (b == '\n' || b == '\r') {
      emit();
      out.write(b);
    } else {
      line.write(b);
      if (line.size() >= MAX_LINE_BYTES) {
        emit();
      }
    }
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    int start = off;
    int end = off + len;
    for (int i = off; i < end; i++) {
      if (b[i] == '\n' || b[i] == '\r') {
        line.write(b, start, i - start);
        emit();
        out.write(b[i]);
        start = i + 1;
      }
    }
    line.write(b, start, end - start);
    if (line.size() >= MAX_LINE_BYTES) {
      emit();
    }
  }

  /** Passes on what is complete; a line without its end yet stays held (it may hold half a secret). */
  @Override
  public synchronized void flush() throws IOException {
    out.flush();
  }

  /** Writes the last line even without its end (the log ended there) and flushes; {@code out} stays open. */
  public synchronized void finish() throws IOException {
    emit();
    out.flush();
  }

  @Override
  public synchronized void close() throws IOException {
    finish();
    out.close();
  }

  private void emit() throws IOException {
    if (line.size() == 0) {
      return;
    }
    // newline and carriage return are never part of a UTF-8 multi-byte sequence: each line decodes whole
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    out.write(redactor.line(text).getBytes(StandardCharsets.UTF_8));
  }
}
