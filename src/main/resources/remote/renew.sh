#!/usr/bin/env bash
# Clears a job directory for the job's next run on the same machine (a changed spec that kept spec.compute and
# spec.python, or a rerun): everything of the last run goes (its files, config, log, attempts, exit record, git checkout),
# except what is slow to make and the new run may use: the Python environment (venv/, conda-env/, .bootstrapped) and the
# checkpoint directory. Once per run: .run names the run the directory was cleared for, and a second call for it does
# nothing (a reconcile whose status write was lost calls again after the new run's files went up).
# Exit status: 0 cleared (or cleared before for this run); 2 bad usage; 4 the last run still runs.
# Usage: renew.sh RUN
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN=$(printf '%s' "${1:-}" | tr -cd 'A-Za-z0-9-')
if [ -z "$RUN" ]; then
  echo "usage: renew.sh RUN" >&2
  exit 2
fi
exec 8>"$DIR/.start.lock"
flock 8
if [ "$(cat "$DIR/.run" 2>/dev/null || true)" = "$RUN" ]; then
  echo "renewed"
  exit 0
fi
SESSION=$(cat "$DIR/config/session" 2>/dev/null || true)
if [ -n "$SESSION" ] && screen -ls 2>/dev/null \
    | awk -v s="$SESSION" '{ n = $1; sub(/^[0-9]+\./, "", n); if (n == s) found = 1 } END { exit !found }'; then
  echo "the last run still runs in screen session $SESSION" >&2
  exit 4
fi
ckpt=$(cat "$DIR/config/checkpoint_path" 2>/dev/null || true)
guard_dir=$(cat "$DIR/config/guard_dir" 2>/dev/null || true)
keep=".renew-keep"
rm -rf "${DIR:?}/$keep"
mkdir "$DIR/$keep"
case "$ckpt" in
  ''|.|..|/*|*/../*|../*) ;;
  *) if [ -d "$DIR/job/$ckpt" ]; then mv "$DIR/job/$ckpt" "$DIR/$keep/checkpoint"; fi ;;
esac
find "$DIR" -mindepth 1 -maxdepth 1 ! -name venv ! -name conda-env ! -name .bootstrapped ! -name .start.lock \
  ! -name "$keep" ! -name renew.sh -exec rm -rf {} +
if [ -d "$DIR/$keep/checkpoint" ]; then
  mkdir -p "$(dirname "$DIR/job/$ckpt")"
  mv "$DIR/$keep/checkpoint" "$DIR/job/$ckpt"
fi
rm -rf "${DIR:?}/$keep"
# an ec2 machine's power-off ceiling counts from the new run's start: the driver writes it anew
if [ -n "$guard_dir" ]; then
  rm -f "${TRAININGJOB_GUARD_ROOT:-}$guard_dir/ceiling"
fi
printf '%s\n' "$RUN" > "$DIR/.run.tmp" && mv -f "$DIR/.run.tmp" "$DIR/.run"
echo "renewed"
