package dev.trainingjob.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One execution of the script within the job: a retry or a relaunch after an interruption is a new one. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AttemptStatus {
  @JsonPropertyDescription("The attempt's number, from 1 (TRAININGJOB_ATTEMPT).")
  public Integer number;

  @JsonPropertyDescription("The machine the attempt ran on.")
  public String instanceId;

  @JsonPropertyDescription("Its instance type (ec2).")
  public String instanceType;

  @JsonPropertyDescription("True when it was a spot instance.")
  public Boolean spot;

  @JsonPropertyDescription("When the attempt's machine was launched, or its script started on a machine it shares (RFC 3339).")
  public String startedAt;

  @JsonPropertyDescription("When the attempt ended (RFC 3339).")
  public String finishedAt;

  @JsonPropertyDescription("How it ended: Succeeded, ExitCode, SpotInterrupted, Interrupted, InstanceLost, or the reason that ended the job.")
  public String reason;

  @JsonPropertyDescription("The script's exit code, when it recorded one.")
  public Integer exitCode;

  @JsonPropertyDescription("What the attempt's machine cost (ec2, or hourlyPriceUSD), counted from launch to termination.")
  public Double costUSD;

  @JsonPropertyDescription("Where the price of costUSD came from: spot-price-history, price-list or spec.")
  public String priceSource;
}
