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
