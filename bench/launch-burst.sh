#!/usr/bin/env bash
# A burst of launches against the fake EC2 with EC2's API limits switched on (AWS's default token buckets, real time):
# N jobs created at once (default 50, then 500; BENCH_JOBS=20,100 for others). Prints a table (RequestLimitExceeded
# answers, seconds until every instance runs and the least EC2's RunInstances bucket allows, launches a second, SDK
# retries, listings per poll interval, calls by action) and keeps it in target/bench-launch-burst.txt.
# Goal: no RequestLimitExceeded at all, and all running close to the least the limits allow.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test -Dtest=LaunchBurstBench -Dbench=true -Dbench.jobs="${BENCH_JOBS:-50,500}" -Dsurefire.failIfNoSpecifiedTests=false
cat target/bench-launch-burst.txt
