package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.crd.generator.annotation.PrinterColumn;

@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"type", "address"})
public class InstanceStatus {
  @JsonPropertyDescription("The provider's id for the machine (an EC2 instance id, or host:port).")
  public String id;

  @JsonPropertyDescription("The instance type, for example g5.xlarge; the provider's name for other machines.")
  @PrinterColumn(name = "Type")
  public String type;

  @JsonPropertyDescription("The address the operator connects to over SSH.")
  @PrinterColumn(name = "Address", priority = 1)
  public String address;

  @JsonPropertyDescription("The SSH port.")
  public Integer sshPort;

  @JsonPropertyDescription("True for a spot instance.")
  public Boolean spot;

  @JsonPropertyDescription("The user the operator logs in as.")
  public String sshUser;

  @JsonPropertyDescription("When the machine was launched or first used (RFC 3339).")
  public String launchedAt;
}
