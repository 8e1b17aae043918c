#!/usr/bin/env bash
# Cross-checks our transparency formats with Go's reference implementation,
# golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (docs/TRANSPARENCY.md).
#
# Usage: scripts/check-with-go.sh [CHECKPOINT VKEY [COSIGNER_VKEY]]
#   CHECKPOINT     a signed checkpoint note (default fixtures/vectors/checkpoint.txt)
#   VKEY           the log's verifier key file (default fixtures/vectors/checkpoint.vkey)
#   COSIGNER_VKEY  a witness's cosigner key file whose cosignature must verify
#                  (default, with no arguments: fixtures/vectors/cosigner.vkey)
# The Merkle vectors are always fixtures/vectors/merkle.json.
#
# Then it publishes a 66,000-entry ledger as tiles (`access-ledger publish`,
# twice) and checks the tiles with tlog's tile code (go-check -tiles). The
# binary is $ACCESS_LEDGER_BIN, or target/debug/access-ledger (built if missing).
#
# Installs Debian's golang-go and golang-golang-x-mod-dev when missing, and
# builds in GOPATH mode against the Debian sources (no modules, no network
# beyond the Debian archive).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
vectors=$root/fixtures/vectors
if [ $# -eq 0 ]; then
    set -- "$vectors/checkpoint.txt" "$vectors/checkpoint.vkey" "$vectors/cosigner.vkey"
fi
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 [CHECKPOINT VKEY [COSIGNER_VKEY]]" >&2
    exit 2
fi
checkpoint=$1 vkey=$2 cosigner=${3:-}
merkle=$vectors/merkle.json

gocode=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -d "$gocode/src/golang.org/x/mod/sumdb/note" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null
fi

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
export GOPATH="$gocode" GO111MODULE=off GOFLAGS= GOCACHE="$build/cache"
go build -o "$build/go-check" "$root/scripts/go-check/main.go"
"$build/go-check" -checkpoint "$checkpoint" -vkey "$vkey" -cosigner "$cosigner" -merkle "$merkle"

# The tiles `publish` writes, read by tlog's own tile code (checkTiles in
# scripts/go-check/main.go): a ledger of 66,000 entries, so that there are
# full tiles at levels 0 and 1 and a partial one at level 2, published in
# two runs (the second incremental).
bin=${ACCESS_LEDGER_BIN:-$root/target/debug/access-ledger}
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --quiet --bin access-ledger)
fi
work=$build/tiles
mkdir -p "$work"
"$bin" keygen --name log-admin --out "$work/admin.key" >/dev/null
"$bin" --ledger "$work/ledger" init --origin example.org/go-check --time-zone UTC \
    --key "$work/admin.key" --created-at 2016-01-01 >/dev/null
lines() {
    awk -v from="$1" -v to="$2" 'BEGIN { for (i = from; i < to; i++)
        printf "{\"type\":\"grant\",\"subject\":\"agency:a%d\",\"resource\":\"db/t%d\",\"rights\":[\"read\"],\"basis\":\"go-check %d\",\"effective_at\":\"2016-02-01\"}\n", i % 97, i % 13, i }'
}
lines 0 40000 >"$work/first.jsonl"
lines 40000 65999 >"$work/second.jsonl"
"$bin" --ledger "$work/ledger" import "$work/first.jsonl" --key "$work/admin.key" >/dev/null
"$bin" --ledger "$work/ledger" publish --out "$work/site" --key "$work/admin.key" >/dev/null
"$bin" --ledger "$work/ledger" import "$work/second.jsonl" --key "$work/admin.key" >/dev/null
"$bin" --ledger "$work/ledger" publish --out "$work/site" --key "$work/admin.key" >/dev/null
"$build/go-check" -tiles "$work/site"
