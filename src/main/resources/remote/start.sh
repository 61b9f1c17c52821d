#!/usr/bin/env bash
# Starts driver.sh in a detached screen session, exactly once per attempt. Usage: start.sh [ATTEMPT] (default 1).
# A higher attempt than the one the directory holds is a new run of the script on this machine (a retry, an interruption
# on purpose): the last attempt's record (state, exit record, interrupt file) moves to attempts/N/ first, and everything
# else stays (Python, the job's files, the checkpoint directory, the log, which screen appends to).
# Exit status: 0 started now; 3 this attempt had been started before; 4 the last attempt still runs; 5 a later attempt
# ran here already; 10 GNU screen is missing and cannot be installed.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SESSION=$(cat "$DIR/config/session")

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

install_screen() {
  if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    return 1
  fi
  if command -v apt-get >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq screen >/dev/null 2>&1 \
      || { as_root apt-get update -qq >/dev/null 2>&1 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq screen >/dev/null; }
  elif command -v dnf >/dev/null 2>&1; then
    as_root dnf install -y -q screen >/dev/null
  elif command -v yum >/dev/null 2>&1; then
    as_root yum install -y -q screen >/dev/null
  elif command -v zypper >/dev/null 2>&1; then
    as_root zypper --non-interactive install screen >/dev/null
  else
    return 1
  fi
}

if ! command -v screen >/dev/null 2>&1; then
  if ! install_screen || ! command -v screen >/dev/null 2>&1; then
    echo "GNU screen is not installed on this machine, and it could not be installed (that needs root or passwordless sudo, and apt-get, dnf, yum or zypper). Install it, e.g. 'sudo apt-get install screen' or 'sudo dnf install screen', and the job will start." >&2
    exit 10
  fi
fi

ATTEMPT=$(printf '%s' "${1:-1}" | tr -cd '0-9')
ATTEMPT=${ATTEMPT:-1}
alive() {
  screen -ls 2>/dev/null | awk -v s="$SESSION" '{ n = $1; sub(/^[0-9]+\./, "", n); if (n == s) found = 1 } END { exit !found }'
}
exec 8>"$DIR/.start.lock"
flock 8
# a directory started before attempts were counted holds attempt 1
current=$(tr -cd '0-9' 2>/dev/null < "$DIR/attempt" || true)
if [ -z "$current" ] && [ -d "$DIR/started" ]; then current=1; fi
if [ -n "$current" ] && [ "$ATTEMPT" -lt "$current" ]; then
  echo "attempt $current ran here already; not starting attempt $ATTEMPT" >&2
  exit 5
fi
if [ -n "$current" ] && [ "$ATTEMPT" -gt "$current" ]; then
  if alive; then
    echo "attempt $current is still running in screen session $SESSION" >&2
    exit 4
  fi
  mkdir -p "$DIR/attempts/$current"
  for f in state exit_code reason_code detail interrupt script.pid driver.pid; do
    [ ! -e "$DIR/$f" ] || mv -f "$DIR/$f" "$DIR/attempts/$current/$f"
  done
  rm -rf "$DIR/started"
fi
printf '%s\n' "$ATTEMPT" > "$DIR/attempt.tmp" && mv -f "$DIR/attempt.tmp" "$DIR/attempt"

# mkdir is atomic: of two starts, only one gets here
if ! mkdir "$DIR/started" 2>/dev/null; then
  echo "already started"
  exit 3
fi
if ! screen -c "$DIR/screenrc" -dmS "$SESSION" -L -Logfile "$DIR/output.log" bash "$DIR/driver.sh"; then
  rmdir "$DIR/started"
  echo "screen could not start the session $SESSION" >&2
  exit 1
fi
echo "started"
