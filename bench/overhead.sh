#!/usr/bin/env bash
# The operator's overhead against the manual recipe (issue 19 (d)): the same 20 s script on the same loopback OpenSSH sshd,
# run by hand (ssh + scp + screen -dmS, polling exit_code every second, scp back; once with a new connection per command,
# once over one multiplexed connection) and by the operator (host provider, default probe interval), in interleaved rounds
# after one warm-up round. Prints medians, their ratio, each pair, and where
# each side's time went, and keeps them in target/bench-overhead.txt. Needs sshd, ssh, scp, screen and python3.
# BENCH_PAIRS=N for more rounds than 5 (about 75 s a round).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test -Dtest=OverheadBench -Dbench=true -Dbench.pairs="${BENCH_PAIRS:-5}" -Dsurefire.failIfNoSpecifiedTests=false
cat target/bench-overhead.txt
