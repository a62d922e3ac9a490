#!/usr/bin/env bash
# scripts/demo.sh — the README's first command: runs tapedeck's main job on
# the bundled samples in testdata/, with no credentials and no network.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
server=""
cleanup() {
	# The local exchange, if still running, is stopped with the demo.
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$bin"
}
trap cleanup EXIT
go build -o "$bin" ./cmd/...

echo "== convert stats: every bundled tape, decoded and rebuilt into market books"
"$bin/convert" stats testdata/tapes

echo
echo "== convert books: the last market book of testdata/tapes/1.197931750 (betfairlightweight's layout)"
"$bin/convert" books testdata/tapes/1.197931750 | tail -n 1 | cut -c 1-600
echo "..."

echo
echo "== trade serve + record run: the two bundled markets served by the local exchange, recorded, converted"
# trade serve replays the tapes over a Betfair-compatible stream on
# 127.0.0.1 (TLS with a certificate it generates); record run logs in to it
# with no credentials and records every market into $bin/recorded. Both
# markets close at the end of their tapes, so the recording is complete when
# both tapes (and catalogues) are in the directory.
"$bin/trade" serve testdata/tapes/1.197931750 testdata/tapes/1.197931751 --speed 0 \
	--info "$bin/exchange.json" --log-level warn > "$bin/serve.out" &
server=$!
for _ in $(seq 1 100); do [ -s "$bin/exchange.json" ] && break; sleep 0.1; done
head -1 "$bin/serve.out"
"$bin/record" run --exchange-info "$bin/exchange.json" --dest "$bin/recorded" --spool "$bin/spool" \
	--close-grace 100ms --log-level warn &
recorder=$!
for _ in $(seq 1 300); do
	[ "$(find "$bin/recorded" -name '*.jsonl.zst' 2>/dev/null | wc -l)" -ge 2 ] && [ -z "$(ls -A "$bin/spool/closed" 2>/dev/null)" ] && break
	sleep 0.1
done
kill -TERM "$recorder" && wait "$recorder" # SIGTERM: record run syncs its spool and exits 0
kill "$server" && wait "$server" || true
server=""
(cd "$bin/recorded" && find . -type f | sort && "$bin/convert" stats .)

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

echo
echo "== trade backtest: both reference strategies over the recording made above (flumine's fill model)"
# The two recorded greyhound markets never turn in play, so lowest-layer
# (which lays in play) places nothing there; passive-back backs before the off.
for strategy in passive-back lowest-layer; do
	"$bin/trade" backtest --strategy "$strategy" "$bin/recorded" -o "$bin/backtest-$strategy"
done
