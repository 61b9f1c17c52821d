#!/usr/bin/env bash
# Prints one JSON object about the job (driver.sh's header describes the files it reads). Words
# (state, reasonCode) are cut down to the characters a word may hold; text (detail, log, progress,
# GPU) is base64-encoded. Either way the JSON stays valid whatever the files hold.
#
# It runs every few seconds for every job, so it starts as few processes as it can (a fork and exec costs more
# than everything else it does): files are read with bash's own read, words cut with parameter expansion, and
# only screen, tail, base64 and df are run while a job trains.
set -uo pipefail

DIR=${BASH_SOURCE[0]%/*}
[ "$DIR" != "${BASH_SOURCE[0]}" ] || DIR=.
cd "$DIR" 2>/dev/null && DIR=$PWD
LOG_BYTES=${1:-32768}

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
# gone here means the files below are complete
alive=false
if [ -n "$SESSION" ] && command -v screen >/dev/null 2>&1; then
  while read -r first _; do
    name=${first#*.}
    if [ "$name" = "$SESSION" ] && [ "$first" != "$name" ]; then alive=true; fi
  done <<< "$(screen -ls 2>/dev/null)"
fi

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
[ -f "$DIR/output.log" ] && log=$(tail -c "$LOG_BYTES" "$DIR/output.log" | b64)
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

printf '{"state":"%s","exitCode":%s,"sessionAlive":%s,"reasonCode":"%s","detail":"%s","log":"%s","progress":"%s","disk":%s,"gpu":"%s","uptimeSeconds":%s,"attempt":%s}\n' \
  "$state" "$exit_code" "$alive" "$reason_code" "$detail" "$log" "$progress" "$disk" "$gpu" "$uptime" "$attempt"
