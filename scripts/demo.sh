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

echo
echo "== convert parquet: the bundled samples as a Parquet dataset, then the README's first example query (winners and BSP)"
"$bin/convert" parquet testdata/tapes -o "$bin/dataset"
# The query runs through DuckDB's Go driver in interop/ (a module of its own,
# built with cgo, so the main module stays cgo-free): nothing but Go is
# needed, no DuckDB CLI. The first run compiles and links DuckDB, which takes
# a minute or more; later runs are quick.
go -C interop run ./cmd/query "$bin/dataset" "
SELECT market_id, selection_id, runner_name, bsp
FROM read_parquet('dataset/runners/**/*.parquet', hive_partitioning = true)
WHERE is_winner
ORDER BY market_id, selection_id"
