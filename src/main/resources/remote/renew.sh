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
guard_dir=$(cat "$DIR/config/guard_dir" 2>/dev/null || true)
keep="$DIR/.renew-keep"
# the checkpoint is set aside in .renew-keep with its path, and always put back: a renew cut short (a kill, a file it could
# not remove) leaves it there, and the next renew puts it back (once it cleared the rest) instead of losing it
put_back() {
  if [ -d "$keep/checkpoint" ] && [ -s "$keep/path" ]; then
    local path
    path=$(cat "$keep/path")
    mkdir -p "$(dirname "$DIR/job/$path")"
    if [ ! -e "$DIR/job/$path" ]; then
      mv "$keep/checkpoint" "$DIR/job/$path"
    fi
  fi
}
if [ -d "$keep/checkpoint" ] && [ -s "$keep/path" ]; then
  : # a renew cut short set the checkpoint aside already: it is put back once the directory is cleared
else
  rm -rf "$keep"
  mkdir "$keep"
  ckpt=$(cat "$DIR/config/checkpoint_path" 2>/dev/null || true)
  ckpt=${ckpt%/}
  case "/$ckpt/" in
    //|*/./*|*/../*) ;; # not a directory under the job's files (the operator refuses such a path): nothing to keep
    *)
      if [ -d "$DIR/job/$ckpt" ] && [ ! -L "$DIR/job/$ckpt" ]; then
        printf '%s' "$ckpt" > "$keep/path"
        mv "$DIR/job/$ckpt" "$keep/checkpoint"
      fi
      ;;
  esac
fi
trap put_back EXIT
find "$DIR" -mindepth 1 -maxdepth 1 ! -name venv ! -name conda-env ! -name .bootstrapped ! -name .start.lock \
  ! -name .renew-keep ! -name renew.sh -exec rm -rf {} + || true
put_back
trap - EXIT
if [ -d "$keep/checkpoint" ]; then
  echo "the checkpoint directory could not be put back from $keep" >&2
  exit 1
fi
# the next run's driver says TRAININGJOB_RESUMED=1 when it finds the checkpoint kept here
if [ -s "$keep/path" ]; then
  touch "$DIR/.checkpoint-kept"
fi
rm -rf "$keep"
# an ec2 machine's power-off ceiling counts from the new run's start: the driver writes it anew
if [ -n "$guard_dir" ]; then
  rm -f "${TRAININGJOB_GUARD_ROOT:-}$guard_dir/ceiling"
fi
printf '%s\n' "$RUN" > "$DIR/.run.tmp" && mv -f "$DIR/.run.tmp" "$DIR/.run"
echo "renewed"
