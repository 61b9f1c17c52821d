#!/usr/bin/env bash
# The operator side at N running jobs with machines in memory (issue 19, benchmark a): heap after GC, operator CPU per
# job-minute, reconcile p50/p99, status writes per job-minute, exit noticed p50/p99, at the production defaults.
# BENCH_JOBS (100,1000,5000) and BENCH_WINDOW_S (60) choose the sizes and the steady window. Prints the table and keeps
# it in target/bench-scale-in-memory.txt (details per N in target/bench-scale-in-memory-N.log).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test -Dtest=InMemoryScaleBench -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false \
  -Dbench.jobs="${BENCH_JOBS:-100,1000,5000}" -Dbench.window="${BENCH_WINDOW_S:-60}" \
  -Dbench.reconcileThreads="${BENCH_RECONCILE_THREADS:-10}"
cat target/bench-scale-in-memory.txt
