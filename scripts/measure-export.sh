#!/usr/bin/env bash
# Peak memory and wall time of `verify`, `backup`, `export` and
# `verify-export` on a synthetic ledger, each as its own release-binary
# process under /usr/bin/time -v (docs/PERFORMANCE.md, "Council export").
#
#   scripts/measure-export.sh [LEDGER_DIR] [WORK_DIR]
#
# LEDGER_DIR defaults to $ACCESS_LEDGER_BENCH_DIR/synth-1000000 (built by
# benches/common). It is only read: `backup` copies it into WORK_DIR first,
# and everything else runs on the copy.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-${ACCESS_LEDGER_BENCH_DIR:-$PWD/target/bench-ledger-1m}/synth-1000000}"
work="${2:-$(mktemp -d "${TMPDIR:-/tmp}/measure-export.XXXXXX")}"
[ -d "$src" ] || { echo "error: no ledger at $src" >&2; exit 2; }
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/access-ledger"
key="$work/synth-admin.key"
vkey="$(cargo bench --quiet --bench export -- --write-key "$key")"
echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
measure() {
  local what="$1"; shift
  /usr/bin/time -v "$@" >"$work/$what.out" 2>"$work/$what.err" || { cat "$work/$what.err" >&2; exit 1; }
  local wall rss
  wall="$(grep 'Elapsed (wall clock)' "$work/$what.err" | awk '{print $NF}')"
  rss="$(grep 'Maximum resident set size' "$work/$what.err" | awk '{print $NF}')"
  echo "$what: wall $wall, peak RSS $((rss / 1024)) MB (load after: $(cut -d' ' -f1-3 /proc/loadavg))"
}
measure backup "$bin" --ledger "$src" backup --out "$work/ledger"
# The period: from the middle of the log, the time SPAN entries (default 1%)
# took to record.
measure verify "$bin" --ledger "$work/ledger" verify --json
n="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report"]["entries"])' "$work/verify.out")"
at() { "$bin" --ledger "$work/ledger" log --from "$1" --limit 1 --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["recorded_at"])'; }
span="${SPAN:-$((n / 100))}"
from="$(at $((n / 2)))"; to="$(at $((n / 2 + span)))"
echo "ledger: $n entries; period $from to $to"
measure export "$bin" --ledger "$work/ledger" export --from "$from" --to "$to" --out "$work/bundle" --key "$key"
measure verify-export "$bin" verify-export "$work/bundle" --ledger-key "$vkey"
echo "bundle: $(du -sh "$work/bundle" | cut -f1) in $work/bundle"
