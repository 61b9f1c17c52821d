package dev.trainingjob.operator.redact;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of text that people read: status.logTail, the messages and Events that carry
 * the driver's detail, and the kubectl plugin's {@code logs}. It works on values and blocks, not
 * only on lines, because secrets span lines: every line of a multi-line Secret value (a PEM key,
 * a kubeconfig) and every line of a PEM block, from {@code -----BEGIN …-----} through
 * {@code -----END …-----}, is masked; so is what has the shape of a credential (see
 * {@link #credentials}).
 *
 * <p>One instance reads one stream of lines in order and remembers whether it is inside a block
 * ({@link #line}); {@link #redact} reads a window of lines cut from a longer log, which may start
 * inside a block.
 */
public final class LogRedactor {
  public static final String MASK = "******";
  /** Shorter values would mask ordinary words and digits all over the log; they are left alone. */
  static final int MIN_SECRET_LENGTH = 4;

  private static final String PEM_LABEL = "[A-Z0-9]+(?: [A-Z0-9]+)*";
  private static final Pattern PEM_BEGIN = Pattern.compile("-----BEGIN " + PEM_LABEL + "-----");
  private static final Pattern PEM_END = Pattern.compile("-----END " + PEM_LABEL + "-----");

  /** A replacement for what looks like a credential; the groups it keeps are the words around the secret. */
  private record Shape(Pattern pattern, Function<MatchResult, String> keep) {}

  private static Shape masked(String regex) {
    return new Shape(Pattern.compile(regex), m -> MASK);
  }

  /** Keeps groups 1 and 2 (a name and its separator) and masks the rest. */
  private static Shape afterName(String regex) {
    return new Shape(Pattern.compile(regex), m -> m.group(1) + m.group(2) + MASK);
  }

  private static final String KEYWORD = "(?:token|secret|password|passwd|passphrase|key|credentials?)";
  private static final Pattern AWS_KEY_ID = Pattern.compile("(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])");
  /** An AWS secret access key is 40 characters of base64; only masked beside a key id, where it is one, not a hash. */
  private static final Pattern AWS_SECRET = Pattern.compile("(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])");

  /**
   * The shapes of credentials, in the order they are applied: a URL's user info before the
   * assignments (its {@code user:pass} would otherwise read as one), flags before assignments.
   */
  private static final List<Shape> SHAPES = List.of(
      // scheme://user:pass@host, scheme://token@host
      new Shape(Pattern.compile("(?<![A-Za-z0-9+.-])([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\\s@]+@"), m -> m.group(1) + MASK + "@"),
      // Authorization: Basic …, Proxy-Authorization: Bearer …, authorization="…"
      new Shape(Pattern.compile("(?i)\\b((?:proxy-)?authorization[\"']?\\s*[:=]\\s*[\"']?)((?:bearer|basic|token|digest|negotiate)\\s+)?[^\\s\"',]+"),
          m -> m.group(1) + (m.group(2) == null ? "" : m.group(2)) + MASK),
      // a JSON Web Token anywhere: header.payload.signature, the first two base64url JSON
      masked("(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*"),
      // curl -u user:pass, --user=user:pass (a user alone, without ':', is no secret)
      afterName("(?<![A-Za-z0-9_-])(-u|--user|--proxy-user)(\\s*=\\s*|\\s+)(?!-)[^\\s:\"']+:[^\\s\"']+"),
      // aws configure set aws_secret_access_key VALUE: the name, a space, the value
      afterName("(?i)\\b(aws_secret_access_key|aws_session_token)(\\s+)(?![=:])[^\\s\"']+"),
      // a quoted value after a credential's name, spaces and all: password = "two words", --password="my pass"
      new Shape(Pattern.compile("(?i)(?<![A-Za-z0-9_.-])(--?[A-Za-z0-9_.-]*" + KEYWORD + "(?:\\s*=\\s*|\\s+)|[A-Za-z0-9_.-]*" + KEYWORD
          + "[\"']?\\s*[=:]\\s*)([\"'])(?!\\2)(.+?)\\2"),
          m -> m.group(1) + m.group(2) + MASK + m.group(2)),
      // Bearer … anywhere (Basic only in a header: "basic" is an English word)
      afterName("(?i)\\b(bearer)(\\s+)[A-Za-z0-9._~+/=-]{8,}"),
      // --token X, --token=X, --hf-token X, --api-key X, --client-secret=X, --password X: the name ends in the keyword
      afterName("(?i)(?<![A-Za-z0-9_-])(--?(?:[a-z0-9]+[-_])*(?:token|secret|password|passwd|passphrase|api[-_]?key|access[-_]?key|secret[-_]?key|private[-_]?key|key|credentials?))(\\s*=\\s*|\\s+)(?!-)[^\\s\"']+"),
      // password=…, HF_TOKEN=…, mytoken=…, "api_key": "…", aws_secret_access_key = …; not max_tokens=, tokenizer=
      new Shape(Pattern.compile("(?i)(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]*" + KEYWORD + ")([\"']?\\s*[=:]\\s*[\"']?)(?![\"'\\s])[^\\s\"',;}&]+"),
          m -> m.group(1) + m.group(2) + MASK),
      // tokens whose prefix says what they are
      masked("(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{20,}"),
      masked("(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
      masked("(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,}"),
      masked("(?<![A-Za-z0-9_-])xox[abposr]-[A-Za-z0-9-]{10,}"),
      masked("(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}"));

  private final List<String> values;
  private boolean inBlock;

  /**
   * A redactor for one stream of lines.
   *
   * @param secretValues values to mask wherever they appear; a multi-line value is masked line by
   *     line, so each of its lines is hidden wherever it appears, even alone
   */
  public LogRedactor(Collection<String> secretValues) {
    Set<String> pieces = new LinkedHashSet<>();
    for (String v : secretValues) {
      if (v == null) {
        continue;
      }
      pieces.add(v);
      for (String line : v.split("\\R")) {
        pieces.add(line.strip());
      }
    }
    this.values = pieces.stream().filter(v -> v.length() >= MIN_SECRET_LENGTH)
        .sorted(Comparator.comparingInt(String::length).reversed()).toList();
  }

  /**
   * A window of lines cut from a longer log (the probe's tail): masked as a stream, except that a
   * window whose first PEM marker is an END starts inside a block, so the lines before it are the
   * block's body and masked too.
   */
  public static List<String> redact(List<String> lines, Collection<String> secretValues) {
    LogRedactor redactor = new LogRedactor(secretValues);
    redactor.inBlock = startsInsideBlock(lines);
    List<String> out = new ArrayList<>(lines.size());
    for (String line : lines) {
      out.add(redactor.line(line));
    }
    return out;
  }

  /** One piece of text on its own (a status message, an Event): values and shapes, and a block inside it. */
  public static String redact(String text, Collection<String> secretValues) {
    if (text == null) {
      return null;
    }
    return String.join("\n", redact(List.of(text.split("\n", -1)), secretValues));
  }

  private static boolean startsInsideBlock(List<String> lines) {
    for (String line : lines) {
      Matcher begin = PEM_BEGIN.matcher(line);
      Matcher end = PEM_END.matcher(line);
      boolean hasBegin = begin.find();
      boolean hasEnd = end.find();
      if (hasEnd && (!hasBegin || end.start() < begin.start())) {
        return true;
      }
      if (hasBegin) {
        return false;
      }
    }
    return false;
  }

  /** The next line of the stream, masked. Inside a PEM block every non-empty line is masked whole. */
  public String line(String line) {
    String l = blocks(line);
    for (String v : values) {
      l = l.replace(v, MASK);
    }
    return credentials(l);
  }

  /** Masks the parts of a line that belong to a PEM block, and remembers whether one is still open. */
  private String blocks(String line) {
    StringBuilder out = new StringBuilder();
    String rest = line;
    while (!rest.isEmpty()) {
      if (inBlock) {
        Matcher end = PEM_END.matcher(rest);
        if (!end.find()) {
          out.append(rest.isBlank() ? rest : MASK);
          return out.toString();
        }
        out.append(MASK);
        rest = rest.substring(end.end());
        inBlock = false;
      } else {
        Matcher begin = PEM_BEGIN.matcher(rest);
        if (!begin.find()) {
          out.append(rest);
          return out.toString();
        }
        out.append(rest, 0, begin.start());
        rest = rest.substring(begin.start());
        // the BEGIN line itself is masked too: from here the block is open
        inBlock = true;
        Matcher end = PEM_END.matcher(rest);
        if (end.find()) {
          out.append(MASK);
          rest = rest.substring(end.end());
          inBlock = false;
        } else {
          out.append(MASK);
          return out.toString();
        }
      }
    }
    return out.toString();
  }

  /**
   * Masks what has the shape of a credential: AWS access key ids (and a secret key beside one),
   * URLs with user info, Authorization headers and bearer tokens, {@code --token X}-style flags,
   * {@code …token=…}/{@code …secret=…}/{@code …password=…}/{@code …key=…} assignments (the name
   * ends in the word, so {@code tokenizer=} and {@code max_tokens=} stay), and tokens with a known
   * prefix (Hugging Face {@code hf_}, GitHub {@code ghp_}/{@code github_pat_}, GitLab
   * {@code glpat-}, Slack {@code xox…-}, OpenAI {@code sk-}).
   */
  static String credentials(String line) {
    String l = line;
    Matcher id = AWS_KEY_ID.matcher(l);
    if (id.find()) {
      l = id.replaceAll(MASK);
      l = AWS_SECRET.matcher(l).replaceAll(MASK);
    }
    for (Shape shape : SHAPES) {
      l = shape.pattern().matcher(l).replaceAll(m -> Matcher.quoteReplacement(shape.keep().apply(m)));
    }
    return l;
  }
}
