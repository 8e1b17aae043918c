#!/usr/bin/env bash
# Runs the benchmarks and prints the machine they ran on, so the figures in
# docs/PERFORMANCE.md can be reproduced and compared.
#
#   scripts/bench.sh            # every bench, then the CLI comparison with SQLite
#   scripts/bench.sh core       # one bench target
#   scripts/bench.sh sqlite verify cli   # the issue-14 table only
#
# The benches build the synthetic ledgers once (1,000,000 events: minutes)
# and keep them in $ACCESS_LEDGER_BENCH_DIR (default target/bench-ledger-1m);
# ACCESS_LEDGER_BENCH_SIZES picks the sizes (default 100000,1000000).
#
# `cli` (after the `sqlite` bench, which leaves the SQLite database and the
# questions beside each ledger) times whole processes: the release binary's
# `check` (median of 20, warm page cache, after a read-only command) and its
# peak RSS, `check --batch` over every question, and the `sqlite3` CLI with
# scripts/sqlite/check.sql, beside `du -sb` of both.
set -euo pipefail
cd "$(dirname "$0")/.."
export ACCESS_LEDGER_BENCH_DIR="${ACCESS_LEDGER_BENCH_DIR:-$PWD/target/bench-ledger-1m}"
sizes="${ACCESS_LEDGER_BENCH_SIZES:-100000,1000000}"
export ACCESS_LEDGER_BENCH_SIZES="$sizes"
out=target/bench-report.txt
mkdir -p target
{
  echo "== machine"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "disk: $(df -h . | awk 'NR==2 {print $1 " " $2}') ($(stat -f -c %T .))"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rustc: $(rustc --version)"
} | tee "$out"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=()
  for f in benches/*.rs; do targets+=("$(basename "$f" .rs)"); done
  targets+=(cli)
fi

# Wall seconds and peak RSS (KiB) of one command, as "secs kib".
timed() {
  /usr/bin/time -f '%e %M' -o target/bench-time.txt "$@" >/dev/null 2>&1 || true
  # /usr/bin/time writes "Command exited with non-zero status N" first when
  # the command fails (a denied `check` exits 1): the figures are the last line.
  tail -n 1 target/bench-time.txt
}

# The median of the numbers on standard input.
median() {
  sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

# Milliseconds of one run of "$@", from a monotonic clock.
ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo "scale=2; ($t1 - $t0) / 1000000" | bc
}

# One `check` by the sqlite3 CLI: the parameters ($2, dot commands), then check.sql.
sqlite_check() {
  printf '%s\n.read scripts/sqlite/check.sql\n' "$2" | sqlite3 "$1"
}

cli() {
  cargo build --release --quiet
  local bin="${CARGO_TARGET_DIR:-target}/release/access-ledger"
  for n in ${sizes//,/ }; do
    local dir="$ACCESS_LEDGER_BENCH_DIR/synth-$n" db="$ACCESS_LEDGER_BENCH_DIR/sqlite-$n.db"
    local qs="$ACCESS_LEDGER_BENCH_DIR/questions-$n.jsonl"
    if [ ! -f "$qs" ] || [ ! -f "$db" ]; then
      echo "cli: no $qs or $db; run the sqlite bench first" >&2
      return 1
    fi
    echo "== cli, $n events"
    echo "disk (du -sb): access-ledger $(du -sb "$dir/" | cut -f1) bytes, SQLite $(du -sb "$db" | cut -f1) bytes"
    echo "first open in this run (log --limit 1): $(timed "$bin" --ledger "$dir" log --limit 1) (wall s, peak RSS KiB)"
    local ours=() theirs=() rss=0
    for i in $(seq 1 20); do
      local line args
      line=$(sed -n "${i}p" "$qs")
      mapfile -t args < <(python3 -c 'import json,sys; q=json.loads(sys.argv[1]); print("\n".join([q["subject"],q["resource"],q["right"],q["at"],q["known_at"]]))' "$line")
      ours+=("$(ms "$bin" --ledger "$dir" check "${args[0]}" "${args[1]}" "${args[2]}" --at "${args[3]}" --known-at "${args[4]}")")
      local r
      r=$(timed "$bin" --ledger "$dir" check "${args[0]}" "${args[1]}" "${args[2]}" --at "${args[3]}" --known-at "${args[4]}" | cut -d' ' -f2)
      [ "$r" -gt "$rss" ] && rss=$r
      local params
      params=$(python3 - "$line" <<'PY'
import json, sys
q = json.loads(sys.argv[1])["sqlite"]
for k, v in q.items():
    # A text value as an SQL literal: 'text', in double quotes for the dot command.
    print(f".param set {k} \"'{v}'\"" if isinstance(v, str) else f".param set {k} {v}")
PY
)
      theirs+=("$(ms sqlite_check "$db" "$params")")
    done
    echo "one check, whole process, median of 20: access-ledger $(printf '%s\n' "${ours[@]}" | median) ms (peak RSS $((rss / 1024)) MiB), sqlite3 CLI $(printf '%s\n' "${theirs[@]}" | median) ms"
    local q t0 t1
    q=$(wc -l < "$qs")
    t0=$(date +%s%N)
    python3 -c 'import json,sys
for l in open(sys.argv[1]):
    q=json.loads(l); print(json.dumps({k:q[k] for k in ("subject","resource","right","at","known_at")}))' "$qs" \
      | "$bin" --ledger "$dir" check --batch > target/bench-batch.jsonl || echo "check --batch: some questions could not be asked (exit $?)"
    t1=$(date +%s%N)
    echo "check --batch, $q questions in one process: $(echo "scale=1; ($t1 - $t0) / 1000000" | bc) ms ($(echo "scale=1; ($t1 - $t0) / 1000 / $q" | bc) us per question, open included)"
    echo "verify through the CLI: $(timed "$bin" --ledger "$dir" verify) (wall s, peak RSS KiB)"
    python3 - "$qs" target/bench-batch.jsonl <<'PY'
import json, sys
want = [json.loads(l)["allowed"] for l in open(sys.argv[1])]
got = [json.loads(l)["allowed"] for l in open(sys.argv[2])]
assert want == got, "check --batch disagrees with the in-process answers"
print(f"check --batch: all {len(got)} answers equal to the in-process ones (and so to SQLite's)")
PY
  done
}

for t in "${targets[@]}"; do
  echo "== bench $t" | tee -a "$out"
  if [ "$t" = cli ]; then
    cli 2>&1 | tee -a "$out"
  else
    cargo bench --bench "$t" 2>&1 | grep -vE '^\s*(Compiling|Finished|Running|Benchmarking|Found|Warning|[0-9]+ \(|Gnuplot)' | tee -a "$out"
  fi
done
echo "report: $out"
