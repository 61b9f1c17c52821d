#!/usr/bin/env bash
# Stops the job: Ctrl-C to the script, a kill after the grace period, then no session is left.
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SESSION=$(cat "$DIR/config/session" 2>/dev/null || true)
GRACE=${1:-10}

alive() {
  [ -n "$SESSION" ] && command -v screen >/dev/null 2>&1 \
    && screen -ls 2>/dev/null | awk -v s="$SESSION" '{ n = $1; sub(/^[0-9]+\./, "", n); if (n == s) found = 1 } END { exit !found }'
}

wait_gone() {
  local i=0
  while alive && [ "$i" -lt "$1" ]; do sleep 1; i=$((i + 1)); done
  ! alive
}

if alive; then
  screen -S "$SESSION" -p 0 -X stuff $'\003' >/dev/null 2>&1 || true
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
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    # grep reads the NUL-separated file itself: a pipe would lose matches to SIGPIPE under pipefail, and
    # another user's (or a vanished) process only makes grep fail, quietly
    grep -qzxF "TRAININGJOB_JOB_DIR=$DIR" "$p/environ" 2>/dev/null && printf '%s ' "${p#/proc/}"
  done
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
