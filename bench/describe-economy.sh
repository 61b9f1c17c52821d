#!/usr/bin/env bash
# How many DescribeInstances listings running EC2 jobs cost, against the fake EC2 endpoint.
# Prints a table (jobs, listings in a 10 s window, poll intervals in it, ratios) and keeps it in
# target/bench-describe-economy.txt. Goal: listings per interval stay at or below 1 whatever the job count.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test -Dtest=DescribeEconomyBench -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false
cat target/bench-describe-economy.txt
