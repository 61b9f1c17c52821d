package dev.trainingjob.operator.outputs;

/**
 * The Service in front of the operator's HTTP port, which {@code kubectl trainingjob outputs} reaches through the API
 * server's service proxy: namespace, name and port name. {@link #DEFAULT} is what the chart and deploy/ create with
 * their defaults (release trainingjob-operator in trainingjob-system), and what the demo's embedded API serves.
 */
public record OperatorService(String namespace, String name, String portName) {
  public static final OperatorService DEFAULT = new OperatorService("trainingjob-system", "trainingjob-operator-metrics", "metrics");

  /**
   * The chart's fullname this Service was named after ({@code <fullname>-metrics}); the names of the token Secret and the
   * outputs-reader Role derive from it, as the chart and deploy/ name them.
   */
  public String fullname() {
    return name.endsWith("-metrics") ? name.substring(0, name.length() - "-metrics".length()) : name;
  }

  /** The Secret holding the token the outputs endpoint asks for ({@link OutputsToken}). */
  public String tokenSecret() {
    return fullname() + "-outputs-token";
  }

  /** The Role that grants the service proxy and get on {@link #tokenSecret()}: what a reader is bound to. */
  public String readerRole() {
    return fullname() + "-outputs-reader";
  }

  /**
   * The API path that proxies to the outputs of namespace/job. With the port's name, as the chart's outputs-reader
   * Role names it: RBAC matches the proxied name exactly, port included.
   */
  public String proxyPath(String jobNamespace, String jobName) {
    return "/api/v1/namespaces/" + namespace + "/services/" + name + ":" + portName + "/proxy" + OutputsEndpoint.PATH
        + jobNamespace + "/" + jobName;
  }
}
