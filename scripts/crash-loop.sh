#!/usr/bin/env bash
# The long crash loop: runs the SIGKILL loops of tests/crash.rs (CLI grant,
# CLI import, CLI init, library batches, CLI checkpoint) for at most SECONDS
# in all, then prints the summed counts.
#
#   scripts/crash-loop.sh [SECONDS]        default 600
#
# Replay a failure with the seed it printed: ACCESS_LEDGER_TEST_SEED=<seed>.
# Exits non-zero if any loop lost an acknowledged entry or saw a partial one.
set -euo pipefail
cd "$(dirname "$0")/.."

total="${1:-600}"
case "$total" in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
loops=5 # cli-grant, cli-import, cli-init, library, cli-checkpoint
per_loop=$(( total / loops ))
[ "$per_loop" -ge 1 ] || per_loop=1

cargo test --test integration --no-run >/dev/null 2>&1 || cargo test --test integration --no-run
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "crash loop: ${per_loop}s per loop, one loop at a time"
status=0
ACCESS_LEDGER_CRASH_SECONDS="$per_loop" \
  cargo test --test integration crash:: -- --nocapture --test-threads 1 >"$log" 2>&1 || status=$?

grep -E '^(crash-counts|  an interrupted init|SKIPPED|test )|seed [0-9]+' "$log" || true
awk '
  /^crash-counts loop=/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2] }
    loops++
  }
  END {
    printf "\ntotal: %d loops, %d runs, %d kills survived, %d batches acknowledged, %d landed unacknowledged, %d entries checked after kills\n",
      loops, sum["runs"], sum["kills"], sum["acked"], sum["landed_unacked"], sum["entries_checked"]
  }' "$log"

if [ "$status" -ne 0 ]; then
  echo
  grep -E "panicked|LOST|partial|round|child [0-9]+" "$log" | head -20 || true
  echo "FAILED: see above (full log kept at $log.failed)"
  cp "$log" "$log.failed"
  exit "$status"
fi
echo "entries lost: 0, partial batches: 0"
