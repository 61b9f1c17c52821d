#!/usr/bin/env bash
# Prints one JSON object about the job (driver.sh's header describes the files it reads). Words
# (state, reasonCode) are cut down to the characters a word may hold; text (detail, log, progress,
# GPU) is base64-encoded. Either way the JSON stays valid whatever the files hold.
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SESSION=$(cat "$DIR/config/session" 2>/dev/null || true)
LOG_BYTES=${1:-32768}

# the operator checks in: the machine's own guard (ec2) powers it off when that stops (see driver.sh)
GUARD=$(cat "$DIR/config/guard_dir" 2>/dev/null || true)
[ -z "$GUARD" ] || touch "${TRAININGJOB_GUARD_ROOT:-}$GUARD/heartbeat" 2>/dev/null

b64() { base64 | tr -d '\n'; }
digits() { tr -cd '0-9'; }

# the session first: the driver writes its result before its session ends, so a session seen
# gone here means the files below are complete
alive=false
if [ -n "$SESSION" ] && command -v screen >/dev/null 2>&1; then
  if screen -ls 2>/dev/null | awk -v s="$SESSION" '{ n = $1; sub(/^[0-9]+\./, "", n); if (n == s) found = 1 } END { exit !found }'; then
    alive=true
  fi
fi

state=absent
[ -d "$DIR/started" ] && state=starting
[ -f "$DIR/state" ] && state=$(head -c 64 "$DIR/state" | LC_ALL=C tr -cd 'a-z')

exit_code=null
if [ -f "$DIR/exit_code" ]; then
  v=$(digits < "$DIR/exit_code")
  # written last, so the record is complete; on a full disk the driver may not have managed the state file
  [ -n "$v" ] && exit_code=$v && state=exited
fi

attempt=$(head -c 16 "$DIR/attempt" 2>/dev/null | digits)
[ -n "$attempt" ] || attempt=null

reason_code=""
[ -f "$DIR/reason_code" ] && reason_code=$(head -c 128 "$DIR/reason_code" | LC_ALL=C tr -cd 'a-z0-9:-')
detail=""
[ -f "$DIR/detail" ] && detail=$(head -c 2048 "$DIR/detail" | tr -d '\000' | b64)
log=""
[ -f "$DIR/output.log" ] && log=$(tail -c "$LOG_BYTES" "$DIR/output.log" | b64)
progress=""
[ -f "$DIR/progress.jsonl" ] && progress=$(tail -c 65536 "$DIR/progress.jsonl" | tail -n 2 | b64)

# awk only picks the fields, as text: mawk's printf "%d" stops at 2^31-1, which read every disk as a 2 GiB
# one, full; bash's arithmetic is 64-bit
disk=null
read -r total_k used_k < <(df -Pk "$DIR" 2>/dev/null | awk 'NR == 2 { print $2, $3 }') || true
total_k=$(printf '%s' "${total_k:-}" | digits)
used_k=$(printf '%s' "${used_k:-}" | digits)
if [ -n "$total_k" ] && [ -n "$used_k" ] && [ ${#total_k} -le 15 ] && [ ${#used_k} -le 15 ]; then
  disk="{\"usedBytes\":$((10#$used_k * 1024)),\"totalBytes\":$((10#$total_k * 1024))}"
fi

gpu=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits 2>/dev/null | head -c 8192 | b64)
fi

uptime=null
[ -r /proc/uptime ] && uptime=$(cut -d' ' -f1 /proc/uptime | tr -cd '0-9.')
[ -n "$uptime" ] || uptime=null

printf '{"state":"%s","exitCode":%s,"sessionAlive":%s,"reasonCode":"%s","detail":"%s","log":"%s","progress":"%s","disk":%s,"gpu":"%s","uptimeSeconds":%s,"attempt":%s}\n' \
  "$state" "$exit_code" "$alive" "$reason_code" "$detail" "$log" "$progress" "$disk" "$gpu" "$uptime" "$attempt"
