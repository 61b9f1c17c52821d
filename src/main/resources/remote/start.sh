#!/usr/bin/env bash
# Starts driver.sh in a detached screen session, exactly once.
# Exit status: 0 started now; 3 it had been started before; 10 GNU screen is missing and cannot be installed.
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
