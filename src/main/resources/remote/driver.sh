#!/usr/bin/env bash
# The job's driver, started once by start.sh inside a detached screen session.
# Bootstraps Python once, runs the entrypoint once, and records the result in files that
# probe.sh reports. Every input is read from files under config/, never interpolated into a command line;
# the git credentials among them (git_token, git_username, git_ssh_key, git_known_hosts) are removed once
# the clone is over, whatever its outcome.
#
# The protocol with the operator (ProbeResult's javadoc is the other half). Each file is written
# whole and renamed into place, so a probe never sees half of one.
#   state        one word, rewritten as the driver goes on: bootstrapping, running, syncing, exited
#                (probe.sh adds absent and starting for before the driver wrote one)
#   reason_code  one word, why the driver finished:
#                  exited                 the script ran and exited by itself
#                  interrupted            the script ran and was interrupted (the notice from stop.sh, a person's
#                                         Ctrl-C, a signal)
#                  spot-interrupted       the script ran and was stopped by a spot interruption notice
#                  bootstrap-failed:STEP  the script never ran; STEP says where the driver stopped:
#                                         setup, guard, git, python, mode, venv, pip, miniforge, conda, checkpoint,
#                                         launch
#                  sync-failed            the script exited, but copying its outputs to object storage failed
#   detail       text for people that goes with the code; the operator shows it, never parses it
#                (for bootstrap-failed what the driver was doing, for sync-failed what failed and where to)
#   exit_code    the script's exit status, or the driver's own when the script never ran
#   attempt      (start.sh) which attempt this is; a new attempt moves the last one's record to attempts/N/
#   script.pid   the script's process, which notice.sh gives SIGTERM and, after the grace, SIGKILL
#   interrupt    TRAININGJOB_INTERRUPT_FILE: appears with the notice, holding why (spot, stop)
# reason_code, detail and exit_code are written once, exit_code last: a probe that sees exit_code
# sees the other two, and a rerun of the driver never overwrites a result.
# A new code or step word needs ProbeResult to know it; an operator that does not reads it as unknown.
# The whole driver is one braced group: bash reads all of it before running any of it, so a file written over it while it
# runs (an upload repeated by mistake) can never cut it short.
{
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CFG=$DIR/config
cd "$DIR"
printf '%s\n' "$$" > "$DIR/driver.pid"
# every process the job starts inherits this marker, a daemon that left the session with setsid
# included: stop.sh finds them all by it in /proc
export TRAININGJOB_JOB_DIR="$DIR"

log() { printf '[trainingjob] %s\n' "$*" 2>/dev/null || true; }
# after the script started, the driver keeps quiet on the terminal: the log's last line stays the script's
note() { printf '%s [trainingjob] %s\n' "$(date -u +%FT%TZ)" "$*" >> "$DIR/driver.log" 2>/dev/null || true; }
write_atomic() { printf '%s\n' "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"; }
# the state is a hint for people; on a full disk the driver goes on without it (probe.sh reads an exit_code as exited)
set_state() { write_atomic "$DIR/state" "$1" 2>/dev/null || { rm -f "$DIR/state.tmp"; true; }; }
conf() { if [ -f "$CFG/$1" ]; then cat "$CFG/$1"; fi; }
has_conf() { [ -s "$CFG/$1" ]; }
# the clone's credentials (spec.script.git.credentialsSecret) are kept no longer than the clone
forget_git_credentials() { rm -f "$CFG/git_token" "$CFG/git_username" "$CFG/git_ssh_key" "$CFG/git_known_hosts"; }

# The exit record must survive a full disk (a script that fills it and exits 0 succeeded): its three files
# are reserved when the driver starts, full of NULs (probe.sh drops them), and filled in place without a new
# block when writing them anew fails.
RESERVED=(detail:4096 reason_code:256 exit_code:64)
reserve_exit_record() {
  local r
  for r in "${RESERVED[@]}"; do
    [ -s "$DIR/.${r%%:*}.reserved" ] || head -c "${r#*:}" /dev/zero > "$DIR/.${r%%:*}.reserved"
  done
}
# fill_reserved NAME TEXT: TEXT over the start of the reserved file (cut to fit), which then becomes NAME
fill_reserved() {
  local f="$DIR/.$1.reserved"
  [ -f "$f" ] || return 1
  printf '%s' "$2" | head -c "$(stat -c %s "$f")" | dd of="$f" conv=notrunc status=none 2>/dev/null && mv -f "$f" "$DIR/$1"
}

# record_exit EXIT_CODE REASON_CODE DETAIL: the first recorded exit wins; exit_code last
record_exit() {
  if [ ! -e "$DIR/exit_code" ]; then
    if ! { write_atomic "$DIR/detail" "$3" && write_atomic "$DIR/reason_code" "$2" && write_atomic "$DIR/exit_code" "$1"; } 2>/dev/null
    then
      rm -f "$DIR/detail.tmp" "$DIR/reason_code.tmp" "$DIR/exit_code.tmp"
      fill_reserved detail "$3" || true
      fill_reserved reason_code "$2" || true
      fill_reserved exit_code "$1" || true
    fi
  fi
  set_state exited
}

# doing STEP SENTENCE: what the driver does now; a failure from here on is bootstrap-failed:STEP
doing() { step_code=$1; step=$2; }
doing setup "starting"
interrupted=""
# A subshell (the watcher, the script's launcher) inherits the driver's traps until its first command resets them: one
# stopped in that moment (a script that exits at once gets its watcher killed at once) once ran on_exit, found no exit
# record yet and wrote "bootstrap failed while starting the script (exit 1)" for a script that ran. The traps act in the
# driver's own process only; in a subshell a signal ends it, and its end records nothing.
DRIVER_PID=$BASHPID
in_driver() { [ "$BASHPID" = "$DRIVER_PID" ]; }
on_exit() {
  local code=$?
  in_driver || return 0
  forget_git_credentials
  if [ ! -e "$DIR/exit_code" ]; then
    [ "$code" -ne 0 ] || code=1
    log "bootstrap failed while ${step} (exit ${code})"
    # for whoever reads driver.log on the machine: where the driver stopped (no user input is ever on a command line)
    note "driver stopped with ${code} at: ${last_command:-unknown}"
    record_exit "$code" "bootstrap-failed:${step_code}" "$step"
  fi
}
trap on_exit EXIT
last_command=""
trap 'last_command=$BASH_COMMAND' DEBUG
# Ctrl-C from stop.sh reaches the script too; the driver stays to record what happened.
trap 'in_driver || exit 143; interrupted=1; note "interrupted"' INT TERM HUP

if [ -e "$DIR/exit_code" ]; then
  log "this job already ran (exit code $(cat "$DIR/exit_code")); not running it again"
  exit 0
fi

reserve_exit_record
set_state bootstrapping
mkdir -p "$DIR/job/output"

# --- the machine's own dead-man's switch (ec2 only): cloud-init arms a guard at every boot that
# powers the machine off when the operator stops checking in (each probe touches its heartbeat) or
# at the ceiling; launched with shutdown behaviour terminate, it is then gone. The script never runs
# on a machine without it. The ceiling counts from here (bootstrap included) and is written once.
if has_conf guard_dir; then
  GUARD=${TRAININGJOB_GUARD_ROOT:-}$(conf guard_dir)
  doing guard "checking the machine's dead-man's switch"
  if [ ! -d "$GUARD" ] || [ ! -w "$GUARD" ]; then
    doing guard "checking the machine's dead-man's switch: cloud-init did not arm it at boot (no writable $(conf guard_dir))"
    log "$step"
    exit 1
  fi
  if has_conf guard_ceiling_seconds && [ ! -e "$GUARD/ceiling" ]; then
    doing guard "setting the machine's power-off ceiling"
    write_atomic "$GUARD/ceiling" "$(( $(date +%s) + $(conf guard_ceiling_seconds) ))"
    log "the machine powers itself off at $(date -u -d "@$(cat "$GUARD/ceiling")" +%FT%TZ) at the latest"
  fi
fi
# --- outputs to object storage: checked before anything long runs, so a job never trains for hours to
# find at the end that its outputs cannot leave the machine
if has_conf output_uri; then
  doing preflight "checking the aws CLI, which copies the outputs to $(conf output_uri) (the Deep Learning AMIs and Amazon Linux have it; Ubuntu and Debian images do not)"
  aws --version >/dev/null
  doing preflight "writing a test object to $(conf output_uri)/.trainingjob-preflight with the instance's role (it needs s3:PutObject under that prefix)"
  log "$step"
  printf 'written by trainingjob-operator before job %s started, to check that its outputs can be copied here\n' "$(basename "$DIR")" \
    > "$DIR/.preflight"
  aws s3 cp --only-show-errors "$DIR/.preflight" "$(conf output_uri)/.trainingjob-preflight"
fi

MODE=$(conf bootstrap)
MODE=${MODE:-system}

# --- the job's files from git (inline and ConfigMap files, already uploaded, take precedence)
# Credentials reach git through files of mode 0600 that git reads itself: a token through the
# credential helper git-credential.sh, a deploy key through GIT_SSH_COMMAND's -i. Never in the URL or
# on a command line, which everyone on the machine sees in the process list while git runs.
if has_conf git_url && [ ! -e "$DIR/.git-done" ]; then
  doing git "cloning $(conf git_url)"
  command -v git >/dev/null 2>&1 || { log "git is not installed"; exit 127; }
  rm -rf "$DIR/git-checkout"
  # without a terminal prompt, a refused login fails at once instead of waiting on screen's terminal for the pending deadline
  git_env=(GIT_TERMINAL_PROMPT=0)
  git_opts=()
  if has_conf git_token; then
    # the machine's own helpers (credential.helper=store would keep the token) are emptied first
    git_env+=(TRAININGJOB_GIT_CREDENTIAL_HELPER="$DIR/git-credential.sh")
    git_opts+=(-c credential.helper= -c 'credential.helper=!bash "$TRAININGJOB_GIT_CREDENTIAL_HELPER"')
  fi
  if has_conf git_ssh_key; then
    # only this key, no agent, no prompt; a host key nobody vouched for is refused (no trust on first use)
    ssh_cmd="ssh -i $(printf '%q' "$CFG/git_ssh_key") -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes"
    if has_conf git_known_hosts; then
      ssh_cmd+=" -o UserKnownHostsFile=$(printf '%q' "$CFG/git_known_hosts")"
    fi
    git_env+=(GIT_SSH_COMMAND="$ssh_cmd")
  fi
  # env, not export: none of this reaches the script
  env "${git_env[@]}" git ${git_opts[@]+"${git_opts[@]}"} clone --quiet -- "$(conf git_url)" "$DIR/git-checkout"
  forget_git_credentials
  if has_conf git_ref; then
    doing git "checking out $(conf git_ref)"
    git -C "$DIR/git-checkout" checkout --quiet --detach "$(conf git_ref)" --
  fi
  cp -a -n "$DIR/git-checkout/." "$DIR/job/"
  touch "$DIR/.git-done"
fi

# --- Python
# The interpreter each mode runs the script with; venv and conda make theirs during bootstrap.
case "$MODE" in
  system)
    doing python "looking for python3"
    PY=$(command -v python3)
    # the interpreter itself, not a wrapper (pyenv's shims are bash scripts): the script's own PATH must not decide
    real=$("$PY" -c 'import sys; print(sys.executable)' 2>/dev/null || true)
    [ -n "$real" ] && [ -x "$real" ] && PY=$real
    ;;
  venv) PY="$DIR/venv/bin/python" ;;
  conda) PY="$DIR/conda-env/bin/python" ;;
  *) doing mode "choosing a bootstrap: unknown mode $MODE"; exit 2 ;;
esac

# pip_requirements LABEL [PIP OPTIONS...]: installs config/requirements.txt with $PY, if there is one
pip_requirements() {
  if has_conf requirements.txt; then
    doing pip "installing requirements with pip ($1)"
    log "$step"
    shift
    "$PY" -m pip install --disable-pip-version-check --no-input --quiet "$@" -r "$CFG/requirements.txt"
  fi
}

install_miniforge() {
  local mf=$1 url sha got tmp
  url=$(conf miniforge_url)
  sha=$(conf miniforge_sha256)
  if [ -z "$url" ] || [ -z "$sha" ]; then
    doing miniforge "preparing conda: the operator has no Miniforge installer configured (--miniforge-url and --miniforge-sha256)"
    exit 2
  fi
  tmp="$HOME/.trainingjob/miniforge-installer.$$.sh"
  doing miniforge "downloading the Miniforge installer from $url"
  log "$step"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$tmp" "$url"
  else
    wget -q -O "$tmp" "$url"
  fi
  got=$(sha256sum "$tmp" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    rm -f "$tmp"
    doing miniforge "verifying the Miniforge installer: its SHA-256 is $got, the configuration expects $sha; nothing was installed"
    exit 3
  fi
  doing miniforge "installing Miniforge into $mf"
  log "$step"
  rm -rf "$mf"
  bash "$tmp" -b -p "$mf"
  rm -f "$tmp"
  touch "$mf/.installed"
}

if [ ! -e "$DIR/.bootstrapped" ]; then
  case "$MODE" in
    system)
      pip_requirements "--user" --user
      ;;
    venv)
      doing venv "creating a virtual environment"
      log "$step"
      rm -rf "$DIR/venv"
      python3 -m venv "$DIR/venv"
      pip_requirements "venv"
      ;;
    conda)
      MF="$HOME/.trainingjob/miniforge"
      doing miniforge "waiting for the machine's Miniforge installation ($MF)"
      mkdir -p "$HOME/.trainingjob"
      # one installation per machine, shared by its jobs: install it under a lock
      exec 9>"$HOME/.trainingjob/miniforge.lock"
      flock 9
      [ -e "$MF/.installed" ] || install_miniforge "$MF"
      flock -u 9
      doing conda "creating the conda environment"
      log "$step"
      pkgs=()
      if has_conf conda_packages; then mapfile -d '' -t pkgs < "$CFG/conda_packages"; fi
      version=$(conf python_version)
      rm -rf "$DIR/conda-env"
      "$MF/bin/conda" create --yes --quiet --prefix "$DIR/conda-env" "python=${version:-3}" ${pkgs[@]+"${pkgs[@]}"}
      pip_requirements "conda"
      ;;
  esac
  touch "$DIR/.bootstrapped"
  log "python is ready"
fi

# --- the checkpoint directory: kept on this machine across attempts; on a new machine restored from where it was copied
ATTEMPT=$(tr -cd '0-9' < "$DIR/attempt" 2>/dev/null || true)
ATTEMPT=${ATTEMPT:-1}
CKPT="$DIR/job/$(conf checkpoint_path)"
CKPT_URI=$(conf checkpoint_uri)
CKPT_URI=${CKPT_URI%/}
GRACE=$(conf stop_grace | tr -cd '0-9')
GRACE=${GRACE:-10}
mkdir -p "$CKPT"
# restored once per machine (a later attempt here keeps its own, newer files), merged into what the job's files hold
restored=0
if [ -n "$CKPT_URI" ] && [ ! -e "$DIR/.checkpoint-restored" ]; then
  doing checkpoint "restoring the checkpoint directory from $CKPT_URI"
  log "$step"
  aws s3 sync --no-progress "$CKPT_URI" "$CKPT" > "$DIR/.checkpoint-restore.log"
  restored=$(grep -c '^download:' "$DIR/.checkpoint-restore.log" || true)
  touch "$DIR/.checkpoint-restored"
fi
# resumed: a checkpoint came from S3, or a later attempt on this machine finds the last one's, or a new run on this machine
# finds the last run's (renew.sh kept it)
RESUMED=0
if [ "${restored:-0}" -gt 0 ] || { { [ "$ATTEMPT" -gt 1 ] || [ -e "$DIR/.checkpoint-kept" ]; } && [ -n "$(ls -A "$CKPT" 2>/dev/null)" ]; }; then
  RESUMED=1
fi

# --- the watcher, beside the script: a spot interruption notice from the instance metadata service (every 5 s), and the
# periodic copy of the checkpoint directory, so a machine lost without a notice loses at most one interval
METADATA=${TRAININGJOB_IMDS_URL:-$(conf metadata_url)}
METADATA=${METADATA%/}
spot_notice() {
  local token
  command -v curl >/dev/null 2>&1 || return 1
  # IMDSv2: a session token first; it goes to curl in a header file, never on a command line
  token=$(curl -sf -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$METADATA/latest/api/token" 2>/dev/null) || return 1
  printf 'X-aws-ec2-metadata-token: %s\n' "$token" > "$DIR/.imds-header"
  curl -sf -m 2 -H @"$DIR/.imds-header" -o /dev/null "$METADATA/latest/meta-data/spot/instance-action" 2>/dev/null
}
sync_checkpoint() {
  [ -n "$CKPT_URI" ] || return 0
  aws s3 sync --only-show-errors "$CKPT" "$CKPT_URI"
}
# now_s VAR: VAR becomes the time in seconds, with bash's own clock where it has one (no process every second per job)
now_s() {
  printf -v "$1" '%(%s)T' -1 2>/dev/null || printf -v "$1" '%s' "$(date +%s)"
}
watch_script() {
  local now last_look=0 last_sync
  now_s last_sync
  trap - TERM HUP EXIT
  while :; do
    now_s now
    if [ -n "$METADATA" ] && [ $((now - last_look)) -ge 5 ]; then
      last_look=$now
      if spot_notice; then
        note "spot interruption notice"
        # within AWS's two minutes: the grace, then the copies
        bash "$DIR/notice.sh" spot "$(( GRACE < 90 ? GRACE : 90 ))"
        return 0
      fi
    fi
    if [ -n "$CKPT_URI" ] && [ $((now - last_sync)) -ge "$(conf checkpoint_interval | tr -cd '0-9')" ]; then
      last_sync=$now
      if ! { exec 7>"$DIR/.checkpoint.lock" && flock -n 7; }; then
        :
      elif sync_checkpoint; then
        note "checkpoint directory copied to $CKPT_URI"
      else
        note "copying the checkpoint directory to $CKPT_URI failed; trying again at the next interval"
      fi
      exec 7>&-
    fi
    sleep 1
  done
}

# --- the script, once per attempt, in the background so the driver can watch beside it; its own process gets the
# notice (SIGTERM), so a person's Ctrl-C on the screen session reaches the driver, which gives the script the notice
doing launch "starting the script"
ENTRY=$(conf entrypoint)
args=()
if has_conf args; then mapfile -d '' -t args < "$CFG/args"; fi
# everything the launch uses is decided here, before any of the user's names exist: the command is fixed
# in the positional parameters (an absolute interpreter, so PATH plays no part) and the directory entered
# before the user's names are exported, so no name (PY, DIR, ENTRY, PATH, IFS, ...) changes which
# interpreter, file, directory or arguments run, and a PATH without bash cannot break the driver. The
# values are exported, never put on a command line (a Secret's value would show in the process list).
set_state running
log "running $ENTRY (attempt $ATTEMPT$( [ "$RESUMED" = 1 ] && printf ', resuming from %s' "$(conf checkpoint_path)"))"
set +e
(
  cd "$DIR/job" || exit 126
  set -- "$PY" "$ENTRY" ${args[@]+"${args[@]}"}
  # the operator's names before the user's, while DIR is still the driver's (the validator refuses TRAININGJOB_ names
  # in spec.env; they are skipped here too)
  export TRAININGJOB_PROGRESS_FILE="$DIR/progress.jsonl" TRAININGJOB_OUTPUT_DIR="$DIR/job/output" PYTHONUNBUFFERED=1 \
    TRAININGJOB_CHECKPOINT_DIR="$CKPT" TRAININGJOB_ATTEMPT="$ATTEMPT" TRAININGJOB_RESUMED="$RESUMED" \
    TRAININGJOB_INTERRUPT_FILE="$DIR/interrupt"
  if has_conf env; then
    while IFS= read -r -d '' kv; do
      case $kv in TRAININGJOB_*) ;; *) export -- "$kv" 2>/dev/null ;; esac
    done < "$CFG/env"
  fi
  # the driver's traps are not the script's: it starts with the default handlers (SIGINT stays ignored, as for any
  # background process of a shell; the notice is SIGTERM)
  trap - TERM HUP EXIT
  exec "$@"
) &
script_pid=$!
write_atomic "$DIR/script.pid" "$script_pid"
# a watcher only where there is something to watch for (a machine without a metadata service and a job without a
# checkpoint URI have nothing): it is a process or two a second per job, which on a machine of many jobs adds up
watcher_pid=""
if [ -n "$METADATA" ] || [ -n "$CKPT_URI" ]; then
  watch_script &
  watcher_pid=$!
fi
trap 'in_driver || exit 143; interrupted=1; note "interrupted"; bash "$DIR/notice.sh" stop "$GRACE" &' INT TERM HUP
# a wait cut short by a trapped signal returns above 128 while the script still runs: wait again, until it is gone
while :; do
  wait "$script_pid"
  code=$?
  if kill -0 "$script_pid" 2>/dev/null; then
    continue
  fi
  # it ended while a trap ran: its own status, if that wait was not the one that collected it (127: it was)
  if [ "$code" -gt 128 ]; then
    wait "$script_pid" 2>/dev/null
    again=$?
    [ "$again" -eq 127 ] || code=$again
  fi
  break
done
if [ -n "$watcher_pid" ]; then
  kill "$watcher_pid" 2>/dev/null
  wait "$watcher_pid" 2>/dev/null
fi
trap 'in_driver || exit 143; interrupted=1; note "interrupted"' INT TERM HUP
# set -e stays off from here: a failure now (a full disk) must not read as a bootstrap failure of a script that ran

reason_code=exited
detail="the script exited with code $code"
why=$(head -c 32 "$DIR/interrupt" 2>/dev/null | tr -cd 'a-z-' || true)
if [ "$why" = spot ]; then
  reason_code=spot-interrupted
  detail="the machine is being reclaimed (a spot interruption notice); the script exited with code $code"
elif [ -n "$interrupted" ] || [ -n "$why" ]; then
  reason_code=interrupted
  detail="the script was interrupted and exited with code $code"
fi
note "script exited with code $code"

# --- the checkpoint directory, at the end of every attempt (an interrupted one's most of all)
if [ -n "$CKPT_URI" ]; then
  exec 7>"$DIR/.checkpoint.lock"
  flock 7
  if sync_checkpoint; then
    note "checkpoint directory copied to $CKPT_URI"
  else
    note "copying the checkpoint directory to $CKPT_URI failed"
    detail="$detail; copying the checkpoint directory to $CKPT_URI failed"
  fi
  exec 7>&-
fi

# --- outputs to object storage, with the instance's own role, before the job counts as finished
sync_outputs() {
  local uri p paths=()
  uri=$(conf output_uri)
  uri=${uri%/}
  if has_conf output_paths; then mapfile -d '' -t paths < "$CFG/output_paths"; fi
  if ! command -v aws >/dev/null 2>&1; then
    sync_error="the aws CLI is not installed on this image (the Deep Learning AMIs and Amazon Linux have it)"
    return 1
  fi
  for p in ${paths[@]+"${paths[@]}"}; do
    if [ -d "$DIR/job/$p" ]; then
      aws s3 sync --only-show-errors "$DIR/job/$p" "$uri/$p" || { sync_error="aws s3 sync of $p failed"; return 1; }
    elif [ -e "$DIR/job/$p" ]; then
      aws s3 cp --only-show-errors "$DIR/job/$p" "$uri/$p" || { sync_error="aws s3 cp of $p failed"; return 1; }
    else
      note "output $p was not written; nothing to copy"
    fi
  done
}
# an interrupted script's outputs too (a stop at max runtime, a person's Ctrl-C): stop.sh gives this its grace, and what
# the copy does not get to is collected by the operator over SFTP
if has_conf output_uri; then
  set_state syncing
  sync_error=""
  note "copying outputs to $(conf output_uri)"
  if sync_outputs; then
    note "outputs copied to $(conf output_uri)"
  else
    reason_code=sync-failed
    detail="${sync_error} (to $(conf output_uri))"
    note "output sync failed: $detail"
  fi
fi
record_exit "$code" "$reason_code" "$detail"
exit 0
}
