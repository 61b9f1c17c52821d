#!/usr/bin/env bash
# Stops the job: the notice (notice.sh: the interrupt file, SIGTERM, SIGKILL after the grace period), the driver's own
# copies (checkpoints, outputs) given as long again, then no session and no process of the job is left.
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SESSION=$(cat "$DIR/config/session" 2>/dev/null || true)
GRACE=${1:-10}

alive() {
  [ -n "$SESSION" ] && command -v screen >/dev/null 2>&1 \
    && screen -ls 2>/dev/null | awk -v s="$SESSION" '{ n = $1; sub(/^[0-9]+\./, "", n); if (n == s) found = 1 } END { exit !found }'
}

wait_gone() {
  # looked at ten times a second: a script that exits on the notice ends its session a moment later, and every second
  # waited here is a second more of a machine that is paid for
  local i=0 tenths=$(($1 * 10))
  while alive && [ "$i" -lt "$tenths" ]; do sleep 0.1; i=$((i + 1)); done
  ! alive
}

if alive; then
  bash "$DIR/notice.sh" stop "$GRACE"
  if ! wait_gone "$GRACE"; then
    screen -S "$SESSION" -X quit >/dev/null 2>&1 || true
    wait_gone 5 || true
  fi
fi
# whatever the script left running in the driver's session
if [ -f "$DIR/driver.pid" ]; then
  sid=$(tr -cd '0-9' < "$DIR/driver.pid")
  [ -n "$sid" ] && pkill -KILL -s "$sid" >/dev/null 2>&1 || true
fi
# and whatever the job started that left the session (a setsid daemon): every process of this user
# that carries the job's marker in its environment
marked() {
  # one grep over every environ file (a process per /proc entry made each stop cost about a second);
  # another user's or a vanished process only makes grep skip that file, quietly
  grep -lzxF "TRAININGJOB_JOB_DIR=$DIR" /proc/[0-9]*/environ 2>/dev/null | sed -n 's#^/proc/\([0-9]*\)/environ$#\1#p' | tr '\n' ' '
}
left=$(marked)
if [ -n "$left" ]; then
  kill -TERM $left >/dev/null 2>&1 || true
  for _ in 1 2 3 4 5; do left=$(marked); [ -z "$left" ] && break; sleep 1; done
  [ -z "$left" ] || kill -KILL $left >/dev/null 2>&1 || true
  for _ in 1 2 3 4 5; do left=$(marked); [ -z "$left" ] && break; sleep 1; done
fi
if alive; then
  echo "the screen session $SESSION is still there" >&2
  exit 1
fi
if [ -n "$left" ]; then
  echo "processes of the job are still running: $left" >&2
  exit 1
fi
echo "stopped"
