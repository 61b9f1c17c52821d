#!/usr/bin/env bash
# How long `kubectl trainingjob get` takes: the jar run plainly (`java -jar`, as the plugin ran it before) against the
# launcher (operator/kubectl-trainingjob: JVM flags for a short command, a class-data-sharing archive from its first call).
# Builds nothing: it uses target/trainingjob-operator.jar (mvn -o -q package -DskipTests). It starts the demo (embedded
# API, local provider) with the example job, calls the plugin once to make the archive, then times N calls of each,
# interleaved (before, after, before, ...) so that load from elsewhere falls on both alike, and prints the medians of
# wall and CPU time (user + sys), their ratios, and keeps the table in target/bench-plugin-startup.txt.
# BEFORE_JAR=path times another build's jar as "before" (the build before this change, say). PARTS=1 also times the
# launcher's two parts alone: its JVM flags without an archive, and an archive with the JVM's default flags.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10}
jar=$PWD/target/trainingjob-operator.jar
before_jar=${BEFORE_JAR:-$jar}
[ -f "$jar" ] || { echo "no $jar: run mvn -o -q package -DskipTests first" >&2; exit 1; }
[ -f "$before_jar" ] || { echo "no $before_jar" >&2; exit 1; }

work=$(mktemp -d)
demo_pid=
finish() {
  if [ -n "$demo_pid" ]; then
    kill "$demo_pid" 2>/dev/null || true # its shutdown hook deletes the job and waits for that
    wait "$demo_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap finish EXIT

java -jar "$jar" demo --serve --work-dir "$work/demo" --kubeconfig-out "$work/kubeconfig" >"$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 120); do [ -s "$work/kubeconfig" ] && break; sleep 0.5; done
[ -s "$work/kubeconfig" ] || { cat "$work/demo.log" >&2; exit 1; }
export KUBECONFIG=$work/kubeconfig XDG_CACHE_HOME=$work/cache TRAININGJOB_JAR=$jar
kubectl apply --validate=false -f deploy/examples/demo-job.yaml >/dev/null

check() { # the answer is the table with the demo's job, and nothing on stderr
  grep -q '^demo ' "$work/out" || { echo "no demo row in:" >&2; cat "$work/out" "$work/err" >&2; exit 1; }
  [ ! -s "$work/err" ] || { echo "stderr:" >&2; cat "$work/err" >&2; exit 1; }
}
TIMEFORMAT='%R %U %S'
timed() { # label command...: appends "label wall_ms cpu_ms"
  local label=$1 t
  shift
  t=$( { time "$@" >"$work/out" 2>"$work/err"; } 2>&1 )
  check
  awk -v l="$label" -v t="$t" 'BEGIN { split(t, a, " "); printf "%s %d %d\n", l, a[1] * 1000, (a[2] + a[3]) * 1000 }' >>"$work/times"
}

timed first operator/kubectl-trainingjob get # makes the archive
ls "$XDG_CACHE_HOME"/trainingjob/plugin-*.jsa >/dev/null
quiet=(-Xlog:disable -Xlog:all=warning,cds*=off:stderr)
flags=(-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=4 -XX:+UseSerialGC -XX:-UsePerfData "${quiet[@]}")
if [ -n "${PARTS:-}" ]; then
  java "${quiet[@]}" -XX:ArchiveClassesAtExit="$work/default-flags.jsa" -jar "$jar" get >/dev/null
fi
for _ in $(seq "$N"); do
  timed before java -jar "$before_jar" get
  timed after operator/kubectl-trainingjob get
  if [ -n "${PARTS:-}" ]; then
    timed flags java "${flags[@]}" -jar "$jar" get
    timed archive java "${quiet[@]}" -XX:SharedArchiveFile="$work/default-flags.jsa" -jar "$jar" get
  fi
done

median() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$work/times" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
bw=$(median before 2) bc=$(median before 3) aw=$(median after 2) ac=$(median after 3)
{
  echo "kubectl trainingjob get, $N calls each, interleaved; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "before: java -jar $(basename "$before_jar")${BEFORE_JAR:+ ($BEFORE_JAR)}; after: operator/kubectl-trainingjob"
  printf '%-28s %10s %10s\n' "" "wall (ms)" "cpu (ms)"
  printf '%-28s %10s %10s\n' "first call (makes archive)" "$(awk '$1 == "first" { print $2 }' "$work/times")" "$(awk '$1 == "first" { print $3 }' "$work/times")"
  printf '%-28s %10s %10s\n' "before, median" "$bw" "$bc"
  printf '%-28s %10s %10s\n' "after, median" "$aw" "$ac"
  if [ -n "${PARTS:-}" ]; then
    printf '%-28s %10s %10s\n' "JVM flags only, median" "$(median flags 2)" "$(median flags 3)"
    printf '%-28s %10s %10s\n' "archive only, median" "$(median archive 2)" "$(median archive 3)"
  fi
  awk -v bw="$bw" -v bc="$bc" -v aw="$aw" -v ac="$ac" 'BEGIN { printf "%-28s %10.2f %10.2f\n", "before / after", bw / aw, bc / ac }'
  echo "after, each call (wall ms): $(awk '$1 == "after" { printf "%s ", $2 }' "$work/times")"
} | tee target/bench-plugin-startup.txt
