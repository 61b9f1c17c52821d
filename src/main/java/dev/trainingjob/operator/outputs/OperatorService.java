package dev.trainingjob.operator.outputs;

/**
 * The Service in front of the operator's HTTP port, which {@code kubectl trainingjob outputs} reaches through the API
 * server's service proxy: namespace, name and port name. {@link #DEFAULT} is what the chart and deploy/ create with
 * their defaults (release trainingjob-operator in trainingjob-system), and what the demo's embedded API serves.
 */
public record OperatorService(String namespace, String name, String portName) {
  public static final OperatorService DEFAULT = new OperatorService("trainingjob-system", "trainingjob-operator-metrics", "metrics");

  /**
   * The API path that proxies to the outputs of namespace/job. With the port's name, as the chart's outputs-reader
   * Role names it: RBAC matches the proxied name exactly, port included.
   */
  public String proxyPath(String jobNamespace, String jobName) {
    return "/api/v1/namespaces/" + namespace + "/services/" + name + ":" + portName + "/proxy" + OutputsEndpoint.PATH
        + jobNamespace + "/" + jobName;
  }
}
