#!/usr/bin/env bash
# Runs the criterion benchmarks and prints the machine they ran on, so the
# figures in docs/PERFORMANCE.md can be reproduced and compared.
#
#   scripts/bench.sh            # core (append, verify, limits), queries, proofs
#   scripts/bench.sh core       # one bench target
#
# The query and proof benchmarks build a 1,000,000-event ledger once (several
# minutes) and keep it in $ACCESS_LEDGER_BENCH_DIR (default target/bench-ledger-1m).
set -euo pipefail
cd "$(dirname "$0")/.."
export ACCESS_LEDGER_BENCH_DIR="${ACCESS_LEDGER_BENCH_DIR:-$PWD/target/bench-ledger-1m}"
out=target/bench-report.txt
mkdir -p target
{
  echo "== machine"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "disk: $(df -h . | awk 'NR==2 {print $1 " " $2}') ($(stat -f -c %T .))"
  echo "rustc: $(rustc --version)"
} | tee "$out"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=()
  for f in benches/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
for t in "${targets[@]}"; do
  echo "== bench $t" | tee -a "$out"
  cargo bench --bench "$t" 2>&1 | grep -vE '^\s*(Compiling|Finished|Running|Benchmarking|Found|Warning|[0-9]+ \(|Gnuplot)' | tee -a "$out"
done
echo "report: $out"
