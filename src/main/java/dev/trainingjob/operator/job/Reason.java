package dev.trainingjob.operator.job;

/**
 * Every reason word the operator writes into conditions, Events and phase changes, each with what
 * it means. The word is the constant's name: users see it in {@code kubectl describe}, alerts and
 * Argo CD match on it, so a word once shipped is never renamed.
 */
public enum Reason {
  // --- the way through the phases
  Accepted("the job was accepted and is about to be admitted"),
  WaitingForReference("a ConfigMap or Secret the spec names does not exist (or lacks the key) yet; nothing is launched until it does"),
  Provisioning("the provider is asked for a machine"),
  Launched("an EC2 instance was launched for the job"),
  Bootstrapping("the machine is up; the operator connects, uploads and prepares Python"),
  Started("the driver was started in the job's screen session"),
  Running("the script runs"),
  Finishing("the script exited; its outputs are collected"),
  Succeeded("the script exited with code 0 and its outputs were collected"),

  // --- endings that are the script's or the spec's
  ScriptFailed("the script exited with a code other than 0"),
  BootstrapFailed("preparing Python (or cloning the job's files) failed before the script ran"),
  OutputSyncFailed("the script exited, but its outputs could not be copied to spec.output.s3Uri; they were collected to the operator instead, as far as the size bound allowed"),
  PendingTimeout("the script was not running within spec.limits.maxPendingSeconds of the job's creation; the machine was released"),
  MaxRuntimeExceeded("the script ran longer than spec.limits.maxRuntimeSeconds and was stopped; its outputs were collected if the machine answered"),
  InvalidSpec("the spec can never work as written; the message names the field"),
  InvalidSecret("a Secret the spec names does not hold what the job needs"),
  InvalidImage("first release only: an image that did not resolve; now InvalidSpec naming spec.compute.ec2.image"),
  UnknownSshUser("the SSH user of the image cannot be told; set spec.compute.ec2.sshUser"),
  ProviderUnavailable("the provider the spec names is not configured in this operator"),
  Ec2NotConfigured("the operator lacks an EC2 setting the job needs (SSH source CIDRs, an instance profile)"),

  // --- endings that are the machine's
  InstanceLost("the machine went away (terminated from outside, a spot interruption)"),
  DriverLost("the screen session ended without recording an exit code; the job's processes were stopped and what the script left on disk collected, if the machine answered"),
  SshUnreachable("SSH on the machine did not answer within the operator's SSH-ready timeout"),
  HostKeyMismatch("the machine presented a host key other than the one expected"),
  HostKeyNotReplaced("the EC2 instance's host key, which its user data carried, could not be replaced after the first login; the job does not run there"),
  ScreenMissing("GNU screen is not on the machine and could not be installed"),
  NoCapacity("no instance type the spec allows has capacity now; the job waits and tries the list again until its pending deadline"),
  QuotaExceeded("an account quota (vCPUs of an instance bucket, spot requests) leaves no allowed instance type; the message names the quota and how to raise it"),
  Unauthorized("the operator's AWS role may not do what the job needs; the message says how to decode AWS's explanation"),
  SpotRoleMissing("spot instances need the EC2 Spot service-linked role, and the operator may not create it; the message has the command"),
  SpotInterrupted("the spot instance was interrupted more often than spec.compute.ec2.maxInterruptions allows, and onDemandFallback is off"),
  Interrupted("an attempt ended with an interruption: a spot notice, or kubectl trainingjob interrupt; the job goes on as its next attempt"),
  Relaunching("the attempt's machine went away (a spot interruption); a new one is launched and the script resumes from its checkpoint"),
  OnDemandFallback("spot was given up for this job (too many interruptions, or no spot capacity within the pending deadline): the next launch is on-demand"),
  Retrying("the script exited with a code spec.retry names; it runs again after the backoff"),
  BudgetExceeded("one more probe interval would have passed spec.limits.maxCostUSD: the script got the stop notice, its outputs were collected, the machine released"),
  Stalled("the script wrote no progress record and no output line for spec.limits.stallSeconds; it was stopped (and runs again when spec.retry allows)"),
  IdleGpu("every GPU stayed below spec.limits.idleGpu.belowPercent for forSeconds; the script was stopped"),
  DiskFull("the job's file system had less free than spec.limits.minFreeDiskGiB; the script was stopped before the disk filled"),
  OverBudgetProjected("the projected total (cost so far plus the ETA at the current price) passes spec.limits.maxCostUSD"),
  BudgetExhausted("a TrainingBudget of the namespace has no room for the job's worst case; nothing is launched until it has"),
  BudgetAdmitted("the job's worst case was reserved in the namespace's TrainingBudgets"),
  // --- runs: what the spec and its annotations ask of the job as a whole
  SpecChanged("the spec changed: the run was stopped (the notice, its grace, outputs collected), its summary went to status.runs, and a new run starts with the new spec"),
  Rerun("the annotation trainingjob.dev/rerun has a new value: the run was stopped if it still ran, and a new run of the same spec starts"),
  Suspended("spec.suspend is true: the run was stopped (checkpoint and outputs synced) and its machine released; the job waits in Suspended"),
  Resumed("spec.suspend is false again: the run goes on as its next attempt, from its checkpoint"),
  NewLaunchAttempt("the launch token of the current attempt belongs to an instance that is gone; the next launch uses attempt + 1"),

  // --- EC2 notes on the way
  FallbackInstanceType("the first instance type had no capacity; a fallback type was launched"),
  InstanceTypeUnavailable("an instance type was refused (capacity or support); the next is tried"),
  ComputeChangeIgnored("first release only: spec.compute changed after admission and was ignored; now a changed spec is a new run (SpecChanged)"),
  DuplicateInstance("a second instance of the same job was found and terminated"),
  HostKeyReplaced("the EC2 instance now presents a host key generated for it after the first login; the key its user data carried is no longer accepted"),
  OrphanTerminated("an instance of this install whose job no longer exists was terminated"),

  // --- release
  Released("everything the job held was released"),
  Releasing("the operator waits for the machine to be released"),
  NothingToRelease("the job ended before any machine was asked for"),
  DebugHold("an ended job's machine is kept until the time the condition names: for debugging (spec.limits.keepAfterFailureSeconds), or because outputs that could not be saved are only on it"),
  DebugHoldEnded("the hold ended (its time passed, kubectl trainingjob release, the machine went away, or the spec no longer asks for it); the machine is released"),
  DebugHoldFailed("the hold could not start (the machine did not answer, or its job directory has no hold.sh, from an older operator); the machine is released"),
  ReleaseBlocked("what the job holds cannot be released without a person (its provider or key is gone); the message says how to let go"),

  // --- live conditions
  DiskAlmostFull("more than 90% of the job's file system is used"),
  DiskOK("the job's file system has room"),

  // --- shards
  ShardChanged("the job's label trainingjob.dev/shard names another shard than status.shard, the one that took it: the shard "
      + "the label names leaves it (and its machine) alone, and the one that took it no longer sees it, so nothing acts on it "
      + "until the label names status.shard again"),

  // --- retried errors
  ReconcileError("an error that retrying may fix; the operator retries with backoff");

  private final String meaning;

  Reason(String meaning) {
    this.meaning = meaning;
  }

  /** One line on what the reason means, for docs and tests. */
  public String meaning() {
    return meaning;
  }
}
