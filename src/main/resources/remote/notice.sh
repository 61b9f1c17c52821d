#!/usr/bin/env bash
# The one way the script is told to stop, whoever decided it (stop.sh for the operator, the driver's watcher for a spot
# interruption notice, the driver itself for a person's Ctrl-C): the interrupt file (TRAININGJOB_INTERRUPT_FILE) appears,
# the script gets SIGTERM, and after the grace period SIGKILL. Usage: notice.sh WHY GRACE_SECONDS, WHY one word (spot,
# stop). The first notice's word stays in the file; the driver reads it to record why the script ended.
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WHY=$(printf '%s' "${1:-stop}" | LC_ALL=C tr -cd 'a-z-' | head -c 32)
GRACE=$(printf '%s' "${2:-10}" | tr -cd '0-9')
GRACE=${GRACE:-10}

if [ ! -e "$DIR/interrupt" ]; then
  printf '%s\n' "${WHY:-stop}" > "$DIR/interrupt.tmp" && mv -n "$DIR/interrupt.tmp" "$DIR/interrupt" 2>/dev/null
  rm -f "$DIR/interrupt.tmp"
fi

# the script's process, checked to still carry the job's marker (its pid may have been reused since)
script_pid() {
  local pid
  pid=$(tr -cd '0-9' < "$DIR/script.pid" 2>/dev/null)
  [ -n "$pid" ] && grep -qzxF "TRAININGJOB_JOB_DIR=$DIR" "/proc/$pid/environ" 2>/dev/null && printf '%s' "$pid"
}

# read once: a next attempt's script, started while a notice still waits out its grace, is never this one's to kill
pid=$(script_pid) || exit 0
marked() { grep -qzxF "TRAININGJOB_JOB_DIR=$DIR" "/proc/$pid/environ" 2>/dev/null; }
kill -TERM "$pid" 2>/dev/null || exit 0
for ((i = 0; i < GRACE * 5; i++)); do
  marked || exit 0
  sleep 0.2
done
marked && kill -KILL "$pid" 2>/dev/null || true
