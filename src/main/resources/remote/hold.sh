#!/usr/bin/env bash
# Keeps a job's machine after its script ended, for as long as the operator still needs it. On an ec2 machine, both
# modes move the guard's power-off ceiling to CEILING (epoch seconds) unless it is later already, and touch its heartbeat,
# so the machine's own guard does not power it off while outputs are collected or a person debugs.
#   ceiling  only that (Finishing: the outputs are collected)
#   shell    and the debug hold (spec.limits.keepAfterFailureSeconds): a shell in the job's screen session, so
#            "kubectl trainingjob attach" lands in the job's directory with its Python first on PATH and the script's
#            last lines on the screen; one that is there already is kept, one a person ended is started again
# Idempotent. Usage: hold.sh ceiling|shell CEILING
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CFG=$DIR/config
SESSION=$(cat "$CFG/session")
MODE=${1:-}
CEILING=$(printf '%s' "${2:-}" | tr -cd 0-9)
case $MODE in ceiling|shell) ;; *) echo "usage: hold.sh ceiling|shell CEILING" >&2; exit 2 ;; esac

guard_dir=$(cat "$CFG/guard_dir" 2>/dev/null || true)
if [ -n "$guard_dir" ] && [ -n "$CEILING" ]; then
  g=${TRAININGJOB_GUARD_ROOT:-}$guard_dir
  touch "$g/heartbeat" 2>/dev/null
  now=$(tr -cd 0-9 2>/dev/null < "$g/ceiling" | head -c 12)
  if [ -d "$g" ] && { [ -z "$now" ] || [ "$now" -lt "$CEILING" ]; }; then
    printf '%s\n' "$CEILING" > "$g/ceiling.hold" && mv -f "$g/ceiling.hold" "$g/ceiling" || exit 1
  fi
fi

[ "$MODE" = shell ] || exit 0
if screen -ls 2>/dev/null | awk -v s="$SESSION" '{ n = $1; sub(/^[0-9]+\./, "", n); if (n == s) found = 1 } END { exit !found }'; then
  echo "held"
  exit 0
fi
# the shell's start-up file: the user's own first, then the job's directory and Python
cat > "$DIR/hold.rc" <<RC
[ -f ~/.bashrc ] && . ~/.bashrc
cd $(printf '%q' "$DIR/job") 2>/dev/null || cd $(printf '%q' "$DIR")
for d in $(printf '%q' "$DIR/venv/bin") $(printf '%q' "$DIR/conda-env/bin"); do [ -d "\$d" ] && PATH="\$d:\$PATH"; done
echo "[trainingjob] debug hold: this machine is kept for you until the operator releases it (or kubectl trainingjob release)."
echo "[trainingjob] the script's last lines (all of them: $(printf '%q' "$DIR/output.log")):"
tail -n 20 $(printf '%q' "$DIR/output.log") 2>/dev/null
RC
# the marker: whatever a person starts here is the job's, and release stops it like the job's own processes
if ! TRAININGJOB_JOB_DIR=$DIR screen -c "$DIR/screenrc" -dmS "$SESSION" bash --rcfile "$DIR/hold.rc" -i; then
  echo "screen could not start the session $SESSION" >&2
  exit 1
fi
echo "held"
