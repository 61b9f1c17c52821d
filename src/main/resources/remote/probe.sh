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
  [ -n "$v" ] && exit_code=$v
fi

reason_code=""
[ -f "$DIR/reason_code" ] && reason_code=$(head -c 128 "$DIR/reason_code" | LC_ALL=C tr -cd 'a-z0-9:-')
detail=""
[ -f "$DIR/detail" ] && detail=$(head -c 2048 "$DIR/detail" | b64)
log=""
[ -f "$DIR/output.log" ] && log=$(tail -c "$LOG_BYTES" "$DIR/output.log" | b64)
progress=""
[ -f "$DIR/progress.jsonl" ] && progress=$(tail -c 65536 "$DIR/progress.jsonl" | tail -n 2 | b64)

disk=null
d=$(df -Pk "$DIR" 2>/dev/null | awk 'NR == 2 { printf "{\"usedBytes\":%d,\"totalBytes\":%d}", $3 * 1024, $2 * 1024 }')
[ -n "$d" ] && disk=$d

gpu=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits 2>/dev/null | head -c 8192 | b64)
fi

uptime=null
[ -r /proc/uptime ] && uptime=$(cut -d' ' -f1 /proc/uptime | tr -cd '0-9.')
[ -n "$uptime" ] || uptime=null

printf '{"state":"%s","exitCode":%s,"sessionAlive":%s,"reasonCode":"%s","detail":"%s","log":"%s","progress":"%s","disk":%s,"gpu":"%s","uptimeSeconds":%s}\n' \
  "$state" "$exit_code" "$alive" "$reason_code" "$detail" "$log" "$progress" "$disk" "$gpu" "$uptime"
