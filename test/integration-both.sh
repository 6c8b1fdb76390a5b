#!/usr/bin/env bash
# The integration suite on Node 20 (this machine's) and on Node 24 (the Lambda's runtime, from the
# nested node@24 package) at the same time: each suite is mostly waiting on its own loopback
# servers, so the two together take little longer than one, and CI stays under 20 minutes.
# Each suite's output is printed whole, one after the other; the exit code is non-zero if either failed.
set -u
cd "$(dirname "$0")/.."
mkdir -p .tmp
npm run -s test:integration > .tmp/integration-node20.log 2>&1 &
p20=$!
npm run -s test:node24:suite > .tmp/integration-node24.log 2>&1 &
p24=$!
wait "$p24"; rc24=$?
wait "$p20"; rc20=$?
echo "=== integration suite and bundled handler on Node 24 (exit $rc24) ==="
cat .tmp/integration-node24.log
echo "=== integration suite on Node 20 (exit $rc20) ==="
cat .tmp/integration-node20.log
[ "$rc20" -eq 0 ] && [ "$rc24" -eq 0 ]
