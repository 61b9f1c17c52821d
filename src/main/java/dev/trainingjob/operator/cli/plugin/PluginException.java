package dev.trainingjob.operator.cli.plugin;

/** A reason the plugin cannot do what was asked, in words for the person at the terminal. */
public final class PluginException extends RuntimeException {
  public PluginException(String message) {
    super(message);
  }
}
