package dev.trainingjob.operator.fake.ec2;

/** Just enough XML writing for EC2's responses. */
final class Xml {
  private final StringBuilder b = new StringBuilder();

  Xml open(String tag) {
    b.append('<').append(tag).append('>');
    return this;
  }

  Xml close(String tag) {
    b.append("</").append(tag).append('>');
    return this;
  }

  Xml leaf(String tag, Object value) {
    if (value != null) {
      b.append('<').append(tag).append('>').append(escape(String.valueOf(value))).append("</").append(tag).append('>');
    }
    return this;
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  @Override
  public String toString() {
    return b.toString();
  }
}
