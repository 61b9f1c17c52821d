package dev.trainingjob.operator.api;

/** The condition types a TrainingJob's status carries (status.conditions[].type). */
public final class ConditionType {
  /** True while the job moves toward its end; reason = the phase. */
  public static final String PROGRESSING = "Progressing";
  /** True once the job Succeeded. */
  public static final String COMPLETE = "Complete";
  /** True once the job Failed; reason says why (InvalidSpec, ScriptFailed, ...). */
  public static final String FAILED = "Failed";
  /** True once nothing the job held is left running (instance terminated, session stopped). */
  public static final String RELEASED = "Released";
  /** True while more than 90% of the job's file system is used. */
  public static final String DISK_PRESSURE = "DiskPressure";
  /** True while no allowed instance type has capacity; its lastTransitionTime says since when the job waits. */
  public static final String WAITING_FOR_CAPACITY = "WaitingForCapacity";
  /** True while a failed job's machine is kept for debugging (spec.limits.keepAfterFailureSeconds); says until when. */
  public static final String DEBUG_HOLD = "DebugHold";

  /** True once an attempt of the job was interrupted (a spot notice, kubectl trainingjob interrupt); says how many. */
  public static final String INTERRUPTED = "Interrupted";

  /** True while the job waits in Pending because a TrainingBudget of its namespace has no room for its worst case. */
  public static final String BUDGET_EXHAUSTED = "BudgetExhausted";
  /** True once the projected total (cost so far + ETA at the price) passes spec.limits.maxCostUSD. */
  public static final String OVER_BUDGET_PROJECTED = "OverBudgetProjected";
  /** True once a guard of spec.limits tripped; the reason says which (Stalled, IdleGpu, DiskFull, BudgetExceeded). */
  public static final String GUARD_TRIPPED = "GuardTripped";
  /** True while spec.suspend holds the job in Suspended (as batch/v1 Job's condition of the same name). */
  public static final String SUSPENDED = "Suspended";

  private ConditionType() {}
}
