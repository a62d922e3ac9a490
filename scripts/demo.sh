#!/usr/bin/env bash
# scripts/demo.sh — the README's first command: runs tapedeck's main job on
# the bundled samples in testdata/, with no credentials and no network.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin" ./cmd/...

echo "== convert stats: every bundled tape, decoded and rebuilt into market books"
"$bin/convert" stats testdata/tapes

echo
echo "== convert books: the last market book of testdata/tapes/1.197931750 (betfairlightweight's layout)"
"$bin/convert" books testdata/tapes/1.197931750 | tail -n 1 | cut -c 1-600
echo "..."
