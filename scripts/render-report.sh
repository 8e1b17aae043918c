#!/usr/bin/env bash
# Renders an oversight bundle's report.html to a PNG with headless Chromium,
# to look at it as a browser shows it (issue 10: "the report was opened in a
# real browser"). Installs Debian's `chromium` package with apt-get if no
# Chromium is on the PATH.
#
#   scripts/render-report.sh access-ledger-demo/council-2019-q3/report.html [out.png]
#
# The page is rendered offline: report.html loads nothing (no script, no
# network), and Chromium's own background networking is switched off.
set -euo pipefail
report="${1:?usage: scripts/render-report.sh REPORT.html [OUT.png]}"
out="${2:-${report%.html}.png}"
[ -f "$report" ] || { echo "error: no file $report" >&2; exit 2; }

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  echo "no Chromium found; installing Debian's chromium package" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  browser=chromium
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
abs="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
case "$out" in /*) png="$out" ;; *) png="$PWD/$out" ;; esac
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --screenshot="$png" --window-size=1240,3500 \
  "file://$abs" >/dev/null 2>&1
[ -s "$png" ] || { echo "error: Chromium wrote no screenshot" >&2; exit 1; }
echo "rendered $report to $png"
