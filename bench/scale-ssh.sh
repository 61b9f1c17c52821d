#!/usr/bin/env bash
# The real SSH path at N jobs on the local provider (issue 19, benchmark b): all done against one job alone, operator CPU
# per job-minute in the steady window, reconcile p50/p99, status writes, exit noticed p50/p99, SSH sessions, threads, and
# reconcile threads waiting on a lock (sampled every 20 ms). Needs python3 and GNU screen. BENCH_JOBS (150) and
# BENCH_SCRIPT_S (60) choose the sizes and the script's length; BENCH_WARMUP (30) short jobs run first, not counted
# (BENCH_WARMUP=0: a freshly started operator, its JIT compiling during the burst). Prints the table and keeps it in
# target/bench-scale-ssh.txt (details per N in target/bench-scale-ssh-N.log).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test -Dtest=SshScaleBench -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false \
  -Dbench.jobs="${BENCH_JOBS:-150}" -Dbench.script="${BENCH_SCRIPT_S:-60}" -Dbench.warmup="${BENCH_WARMUP:-30}"
cat target/bench-scale-ssh.txt
