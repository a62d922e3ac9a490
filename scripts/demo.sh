#!/usr/bin/env bash
# scripts/demo.sh — the README's first command: runs tapedeck's main jobs on
# the bundled samples in testdata/, with no credentials and no network, and
# keeps everything it made in ./demo/ (gitignored). Each step says where its
# output is and the one command to look at it. Run it again at will: it
# replaces what an earlier run left in ./demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=demo
server=""
recorder=""
cleanup() {
	# The local exchange and the recorder, if still running, stop with the demo.
	for p in $recorder $server; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

step() { printf '\n== %s\n\n' "$*"; }
# look OUTPUT COMMAND: where a step's output is, and how to look at it.
look() { printf '\n   output: %s\n   look:   %s\n' "$1" "$2"; }

# Only what this script makes is removed, so a rerun starts clean.
rm -rf "$demo/bin" "$demo/stats.txt" "$demo/books.jsonl" "$demo/exchange.json" "$demo/serve.log" \
	"$demo/recorded" "$demo/spool" "$demo/dataset" "$demo"/backtest-* "$demo/report.html" \
	"$demo/live" "$demo/betting.json" "$demo/betting.log"
mkdir -p "$demo"

step "build: the tapedeck binary into $demo/bin/"
go build -o "$demo/bin/" ./cmd/tapedeck
tapedeck="$demo/bin/tapedeck"
"$tapedeck" --version

step "tapedeck convert stats: every bundled tape, decoded and rebuilt into market books"
"$tapedeck" convert stats testdata/tapes | tee "$demo/stats.txt"
look "$demo/stats.txt" "cat $demo/stats.txt"

step "tapedeck convert books: every market book of testdata/tapes/1.197931750 (betfairlightweight's layout)"
"$tapedeck" convert books testdata/tapes/1.197931750 -o "$demo/books.jsonl"
books_jq='select(.status == "OPEN") | [.runners[] | {selectionId, lastPriceTraded, back: .ex.availableToBack[0].price}]'
echo "$(wc -l < "$demo/books.jsonl") books; the last one before the off, each runner's last traded and best back price:"
if command -v jq > /dev/null; then
	jq -c "$books_jq" "$demo/books.jsonl" | tail -n 1
else
	echo "(jq is not installed: the book itself, cut to 400 characters)"
	grep '"status":"OPEN"' "$demo/books.jsonl" | tail -n 1 | cut -c 1-400
fi
look "$demo/books.jsonl" "jq -c '$books_jq' $demo/books.jsonl | tail -1"

step "tapedeck trade serve + tapedeck record run: two markets served by the local exchange, recorded"
# trade serve replays the tapes over a Betfair-compatible stream on
# 127.0.0.1 (TLS with a certificate it generates); record run logs in to it
# with no credentials and records every market into $demo/recorded. Both
# markets close at the end of their tapes, so the recording is complete when
# both tapes (and catalogues) are there and the spool is empty.
"$tapedeck" trade serve testdata/tapes/1.197931750 testdata/tapes/1.197931751 --speed 0 \
	--info "$demo/exchange.json" --log-level warn > "$demo/serve.log" &
server=$!
for _ in $(seq 1 100); do [ -s "$demo/exchange.json" ] && break; sleep 0.1; done
head -1 "$demo/serve.log"
"$tapedeck" record run --exchange-info "$demo/exchange.json" --dest "$demo/recorded" --spool "$demo/spool" \
	--close-grace 100ms --log-level warn &
recorder=$!
for _ in $(seq 1 300); do
	[ "$(find "$demo/recorded" -name '*.jsonl.zst' 2>/dev/null | wc -l)" -ge 2 ] && [ -z "$(ls -A "$demo/spool/closed" 2>/dev/null)" ] && break
	sleep 0.1
done
kill -TERM "$recorder" && wait "$recorder" # SIGTERM: record run syncs its spool and exits 0
recorder=""
kill "$server" && wait "$server" || true
server=""
(cd "$demo/recorded" && find . -type f | sort)
"$tapedeck" convert stats "$demo/recorded"
look "$demo/recorded/" "$tapedeck convert stats $demo/recorded"

step "tapedeck convert parquet: the bundled samples as a Parquet dataset, and the README's first example query"
"$tapedeck" convert parquet testdata/tapes -o "$demo/dataset"
# The query runs through DuckDB's Go driver in interop/ (a module of its own,
# built with cgo, so the main module stays cgo-free): nothing but Go is
# needed, no DuckDB CLI. The first run compiles and links DuckDB, which takes
# a minute or more; later runs are quick.
query="SELECT market_id, selection_id, runner_name, bsp
FROM read_parquet('dataset/runners/**/*.parquet', hive_partitioning = true)
WHERE is_winner
ORDER BY market_id, selection_id"
go -C interop run ./cmd/query "$demo/dataset" "$query"
look "$demo/dataset/" "go -C interop run ./cmd/query $demo/dataset \"SELECT * FROM read_parquet('dataset/markets/**/*.parquet', hive_partitioning = true)\""

step "tapedeck trade backtest: both reference strategies over the recording made above (flumine's fill model)"
# The two recorded greyhound markets never turn in play, so lowest-layer
# (which lays in play) places nothing there; passive-back backs before the off.
for strategy in passive-back lowest-layer; do
	"$tapedeck" trade backtest --strategy "$strategy" "$demo/recorded" -o "$demo/backtest-$strategy" \
		--report "$demo/backtest-$strategy/report.html"
done
look "$demo/backtest-passive-back/" "cat $demo/backtest-passive-back/orders.csv $demo/backtest-passive-back/markets.csv"

step "tapedeck trade serve --betting + tapedeck trade live: passive-back with real orders on the local exchange"
# trade serve --betting takes bets (Betfair's validation, matching by the
# backtest's model, the order stream); trade live sends passive-back's
# orders over the Betting API and follows them on the order stream. With
# --lockstep on both, the exchange replays a change only when the strategy
# has handled the one before, so the run gives the backtest's orders above.
"$tapedeck" trade serve "$demo/recorded" --betting --lockstep --speed 0 \
	--info "$demo/betting.json" --log-level warn > "$demo/betting.log" &
server=$!
"$tapedeck" trade live --strategy passive-back --exchange-info "$demo/betting.json" --lockstep \
	--market-ids 1.197931750,1.197931751 -o "$demo/live"
kill "$server" && wait "$server" || true
server=""
look "$demo/live/" "diff <(sort $demo/live/orders.csv) <(sort $demo/backtest-passive-back/orders.csv)"

step "tapedeck trade report: passive-back's strategy report, one HTML file (docs/report.md)"
# backtest --report wrote it already; trade report makes it again from the
# results directory alone, as it would from any earlier run.
"$tapedeck" trade report "$demo/backtest-passive-back" -o "$demo/report.html"
look "$demo/report.html" "open $demo/report.html in a browser (no network needed), or #market=<id> to see one market"

step "done: everything is in ./$demo/"
ls -1 "$demo"
