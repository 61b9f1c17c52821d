#!/usr/bin/env bash
# Prints one JSON object about the job (driver.sh's header describes the files it reads). Words
# (state, reasonCode) are cut down to the characters a word may hold; text (detail, log, progress,
# GPU) is base64-encoded. Either way the JSON stays valid whatever the files hold.
#
# It runs every few seconds for every job, so it starts as few processes as it can (a fork and exec costs more
# than everything else it does): files are read with bash's own read, words cut with parameter expansion, and
# only stat, tail, base64 and df are run while a job trains.
#
# Usage: probe.sh [LOG_BYTES [LOG_FROM LOG_ID]]. The log is sent from byte LOG_FROM on when the operator has it up to
# there, of the file LOG_ID (its inode; a new run's log is another file), else its last LOG_BYTES: a probe sends only
# what is new, and an operator that knows nothing (restarted) gets the tail again. logFrom and logId say which it was.
set -uo pipefail

DIR=${BASH_SOURCE[0]%/*}
[ "$DIR" != "${BASH_SOURCE[0]}" ] || DIR=.
cd "$DIR" 2>/dev/null && DIR=$PWD
LOG_BYTES=${1:-32768}
LOG_BYTES=${LOG_BYTES//[!0-9]/}
LOG_BYTES=${LOG_BYTES:-32768}
LOG_FROM=${2:-}
LOG_FROM=${LOG_FROM//[!0-9]/}
LOG_ID=${3:-}
LOG_ID=${LOG_ID//[!0-9]/}

# first_line VAR FILE: VAR becomes the file's first line (NUL bytes, which reserved records hold, dropped), or nothing
first_line() {
  local line=""
  [ -f "$2" ] && { IFS= read -r line < "$2"; } 2>/dev/null
  printf -v "$1" '%s' "$line"
}
first_line SESSION "$DIR/config/session"

# the operator checks in: the machine's own guard (ec2) powers it off when that stops (see driver.sh)
first_line GUARD "$DIR/config/guard_dir"
[ -z "$GUARD" ] || touch "${TRAININGJOB_GUARD_ROOT:-}$GUARD/heartbeat" 2>/dev/null

b64() { base64 -w 0; }

# the session first: the driver writes its result before its session ends, so a session seen
# gone here means the files below are complete. While the script runs, the session lives as long as its driver: the
# process driver.pid names, if it still runs this job's driver.sh (kill and read are bash's own; a pid the system gave
# to another process since is not the driver). screen, whose listing costs more with every session of the user on a
# shared host, is asked only where that cannot be told (no /proc, a bash without mapfile -d, no pid yet) and once the
# exit is recorded (the debug hold keeps a shell in the session after the driver).
driver_alive() { # 0 alive, 1 gone, 2 cannot tell
  local pid="" cmd=()
  [ -f "$DIR/driver.pid" ] && [ -d /proc/self ] || return 2
  { IFS= read -r pid < "$DIR/driver.pid"; } 2>/dev/null
  pid=${pid//[!0-9]/}
  [ -n "$pid" ] || return 2
  kill -0 "$pid" 2>/dev/null || return 1
  mapfile -d '' -t cmd < "/proc/$pid/cmdline" 2>/dev/null || return 2
  [ "${#cmd[@]}" -ge 2 ] && [[ ${cmd[1]} == */"${DIR##*/}/driver.sh" ]] && return 0
  return 1
}
alive=false
verdict=2
[ -e "$DIR/exit_code" ] || { driver_alive; verdict=$?; }
case $verdict in
  0) alive=true ;;
  2)
    if [ -n "$SESSION" ] && command -v screen >/dev/null 2>&1; then
      while read -r first _; do
        name=${first#*.}
        if [ "$name" = "$SESSION" ] && [ "$first" != "$name" ]; then alive=true; fi
      done <<< "$(screen -ls 2>/dev/null)"
    fi
    ;;
esac

state=absent
[ -d "$DIR/started" ] && state=starting
if [ -f "$DIR/state" ]; then
  first_line state "$DIR/state"
  state=${state:0:64}
  state=${state//[!a-z]/}
fi

exit_code=null
if [ -f "$DIR/exit_code" ]; then
  first_line v "$DIR/exit_code"
  v=${v//[!0-9]/}
  # written last, so the record is complete; on a full disk the driver may not have managed the state file
  [ -n "$v" ] && exit_code=$((10#${v:0:9})) && state=exited
fi

first_line attempt "$DIR/attempt"
attempt=${attempt//[!0-9]/}
attempt=${attempt:0:9}
[ -n "$attempt" ] && attempt=$((10#$attempt)) || attempt=null

reason_code=""
if [ -f "$DIR/reason_code" ]; then
  first_line reason_code "$DIR/reason_code"
  reason_code=${reason_code:0:128}
  reason_code=${reason_code//[!a-z0-9:-]/}
fi
detail=""
[ -f "$DIR/detail" ] && detail=$(head -c 2048 "$DIR/detail" | tr -d '\000' | b64)
log=""
log_from=null
log_id=""
if [ -f "$DIR/output.log" ]; then
  id="" size=""
  read -r id size < <(stat -c '%i %s' "$DIR/output.log" 2>/dev/null)
  id=${id//[!0-9]/}
  size=${size//[!0-9]/}
  if [ -z "$size" ]; then
    size=$(wc -c < "$DIR/output.log" 2>/dev/null)
    size=${size//[!0-9]/}
    id=""
  fi
  size=$((10#${size:-0}))
  start=$(( size > LOG_BYTES ? size - LOG_BYTES : 0 ))
  # what the operator has not seen, if it saw this very file up to a point within the last LOG_BYTES
  if [ -n "$LOG_FROM" ] && [ -n "$id" ] && [ "$id" = "$LOG_ID" ] && [ "$((10#$LOG_FROM))" -le "$size" ] \
    && [ "$((10#$LOG_FROM))" -gt "$start" ]; then
    start=$((10#$LOG_FROM))
  fi
  # from start to the end, which may have grown since: every byte sent is the file's at its offset
  [ "$size" -gt "$start" ] && log=$(tail -c "+$((start + 1))" "$DIR/output.log" | b64)
  log_from=$start
  log_id=$id
fi
progress=""
[ -f "$DIR/progress.jsonl" ] && progress=$(tail -c 65536 "$DIR/progress.jsonl" | tail -n 2 | b64)

# the fields as text, cut to digits: bash's arithmetic is 64-bit (mawk's printf "%d" stopped at 2^31-1, which read
# every disk as a 2 GiB one, full)
disk=null
total_k="" used_k=""
{ read -r _; read -r _ total_k used_k _; } < <(df -Pk "$DIR" 2>/dev/null)
total_k=${total_k//[!0-9]/}
used_k=${used_k//[!0-9]/}
if [ -n "$total_k" ] && [ -n "$used_k" ] && [ ${#total_k} -le 15 ] && [ ${#used_k} -le 15 ]; then
  disk="{\"usedBytes\":$((10#$used_k * 1024)),\"totalBytes\":$((10#$total_k * 1024))}"
fi

gpu=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits 2>/dev/null | head -c 8192 | b64)
fi

uptime=null
if [ -r /proc/uptime ]; then
  read -r up _ < /proc/uptime
  up=${up//[!0-9.]/}
  [ -n "$up" ] && uptime=$up
fi

printf '{"state":"%s","exitCode":%s,"sessionAlive":%s,"reasonCode":"%s","detail":"%s","log":"%s","logFrom":%s,"logId":"%s","progress":"%s","disk":%s,"gpu":"%s","uptimeSeconds":%s,"attempt":%s}\n' \
  "$state" "$exit_code" "$alive" "$reason_code" "$detail" "$log" "$log_from" "$log_id" "$progress" "$disk" "$gpu" "$uptime" "$attempt"
