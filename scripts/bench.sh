#!/usr/bin/env bash
# scripts/bench.sh — runs the benchmarks and prints the figures the issues set
# targets for, with the comparisons they name side by side in one run.
# Needs Go, bzip2 and zstd. Reads Betfair's greyhound archive from ../shared
# (reference data, not in this repository); set TAPEDECK_SHARED to point
# elsewhere. Set FLUMINE_ROOT (see scripts/golden/flumine/README.md) to run
# flumine side by side with trade backtest and with the live engine's
# tick-to-trade.
#
#   scripts/bench.sh                  everything
#   BENCHTIME=2s scripts/bench.sh     longer go test -bench runs
#   SKIP_GO_BENCH=1 scripts/bench.sh  only the side-by-side command runs
#   SKIP_RECORD=1 scripts/bench.sh    without the recorder benchmark
#   SKIP_SWEEP=1 scripts/bench.sh     without the backtest sweep runs
#   SKIP_LIVE=1 scripts/bench.sh      without the live runs (tick-to-trade, the trade live process)
#   SKIP_LIVE_PROCESS=1 scripts/bench.sh  without the trade live process's RSS and CPU run
#   SKIP_FLUMINE=1 scripts/bench.sh   without flumine's (live and backtest) beside them
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${TAPEDECK_SHARED:-$root/../shared}
tarfile=$shared/data/historic/pro-greyhounds-2022-03-01.tar
benchtime=${BENCHTIME:-1s}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "${SKIP_GO_BENCH:-}" ]; then
	echo "== go test -bench (benchtime $benchtime, GOMAXPROCS=1 for per-core figures)"
	GOMAXPROCS=1 go test -run '^$' -bench . -benchmem -benchtime "$benchtime" \
		./engine/esa ./engine/book ./internal/bzip2 2>&1 | grep -E '^(Benchmark|ok|FAIL)' || true
	echo
fi

if [ ! -f "$tarfile" ]; then
	echo "shared data absent ($tarfile): skipping the side-by-side runs"
	exit 0
fi

go build -o "$work/bin/" ./cmd/convert ./cmd/trade ./internal/tools/measure ./internal/tools/livebench
measure=$work/bin/measure
convert=$work/bin/convert
trade=$work/bin/trade

mkdir -p "$work/members" "$work/copies" "$work/zst"
tar xf "$tarfile" -C "$work/members"
find "$work/members" -name '*.bz2' | sort > "$work/members.txt"
for i in $(seq 1 10); do ln -s "$tarfile" "$work/copies/copy$i.tar"; done
# The same markets re-encoded as zstd tapes.
while read -r f; do bzip2 -dc "$f" | zstd -q -3 -o "$work/zst/$(basename "$f" .bz2).zst"; done < "$work/members.txt"
changes=$("$convert" stats --json --workers 2 "$tarfile" | sed -n 's/^    "market_changes": \([0-9]*\),$/\1/p' | tail -1)

runs=${RUNS:-5}
best() { # label, command... : the run with the least wall time of $runs
	local label=$1; shift
	for _ in $(seq 1 "$runs"); do "$measure" -label "$label" -- "$@"; done | sort -t$'\t' -k2,2n | head -1
}
rate() { # tab-separated measure line -> the line plus market changes/s
	awk -F'\t' -v n="$changes" '{ printf "%s\t%s\t%s\t%s\t%.0f\n", $1, $2, $3, $4, n/$2 }'
}

echo "== side by side on $(basename "$tarfile"): $(wc -l < "$work/members.txt") bz2 members, $changes market changes; best of $runs, 2 cores"
{
	printf 'run\twall s\tcpu s\tpeak RSS MiB\tchanges/s\n'
	{
		best "bzip2 -dc over the members, 2 processes" sh -c "xargs -P2 -n4 bzip2 -dc < '$work/members.txt' > /dev/null"
		best "convert stats --workers 2, the tar" "$convert" stats --workers 2 "$tarfile"
		best "convert stats --workers 2, 10 copies of the tar" "$convert" stats --workers 2 "$work/copies"
		best "convert stats --workers 1, zstd tapes" "$convert" stats --workers 1 "$work/zst"
		best "convert parquet (all tables), the tar" sh -c "rm -rf '$work/pq'; '$convert' parquet --workers 2 '$tarfile' -o '$work/pq' > /dev/null"
		best "convert parquet (all tables), zstd tapes" sh -c "rm -rf '$work/pq'; '$convert' parquet --workers 2 '$work/zst' -o '$work/pq' > /dev/null"
		best "trade backtest passive-back, the tar" sh -c "rm -rf '$work/bt'; '$trade' backtest --strategy passive-back --historic --workers 2 '$tarfile' -o '$work/bt' > /dev/null"
		best "trade backtest passive-back, zstd tapes" sh -c "rm -rf '$work/bt'; '$trade' backtest --strategy passive-back --historic --workers 2 '$work/zst' -o '$work/bt' > /dev/null"
		if [ -z "${SKIP_FLUMINE:-}" ] && [ -n "${FLUMINE_ROOT:-}" ] && [ -d "$FLUMINE_ROOT/flumine" ]; then
			PYTHONPATH="$root/scripts/golden/flumine:$root/scripts/golden/flumine/stubs:$FLUMINE_ROOT/flumine:$FLUMINE_ROOT/betfair" \
				"$measure" -label "flumine 2.13 passive-back, the members" -- "${PYTHON:-/usr/bin/python3}" \
				scripts/golden/flumine/run_backtest.py --strategy passive-back --historic \
				--orders "$work/fl.orders.jsonl" --markets "$work/fl.markets.jsonl" $(cat "$work/members.txt")
		else
			echo "(flumine not run: set FLUMINE_ROOT; its recorded time is in testdata/golden/flumine/timings.txt)" >&2
		fi
	} | rate
} | column -t -s$'\t'
rm -rf "$work/pq"
"$convert" parquet --workers 2 "$tarfile" -o "$work/pq" > /dev/null
echo
echo "parquet output: $(du -sb "$work/pq" | cut -f1) bytes from $(stat -c %s "$tarfile") bytes of tar ($(du -cb "$work"/zst/*.zst | tail -1 | cut -f1) bytes as zstd tapes)"

if [ -z "${SKIP_SWEEP:-}" ]; then
	# Issue 15: a 12-combination sweep reads and decodes each market once,
	# so it should take well under 12 runs' time (target: under 3 runs').
	# Peak RSS should not grow with markets (10 copies of the tar) nor much
	# with combinations (120).
	echo
	echo "== trade backtest --sweep on $(basename "$tarfile"), workers 2; best of $runs"
	bt="'$trade' backtest --strategy passive-back --historic --workers 2"
	sweep12="--sweep stake=2,5,10 --sweep within=30,60,120,180"
	sweep120="--sweep stake=2,3,4,5,6,7,8,9,10,11 --sweep within=15,30,45,60,75,90,105,120,150,180,240,300"
	sep12="for s in 2 5 10; do for w in 30 60 120 180; do $bt --param stake=\$s --param within=\$w '$tarfile' -o '$work/bt' > /dev/null || exit 1; done; done"
	{
		printf 'run\twall s\tcpu s\tpeak RSS MiB\n'
		best "1 run" sh -c "rm -rf '$work/bt'; $bt '$tarfile' -o '$work/bt' > /dev/null"
		best "--sweep, 12 combinations" sh -c "rm -rf '$work/bt'; $bt $sweep12 '$tarfile' -o '$work/bt' > /dev/null"
		best "12 separate runs" sh -c "rm -rf '$work/bt'; $sep12"
		best "--sweep, 120 combinations" sh -c "rm -rf '$work/bt'; $bt $sweep120 '$tarfile' -o '$work/bt' > /dev/null"
		best "--sweep, 12 combinations, 10 copies of the tar" sh -c "rm -rf '$work/bt'; $bt $sweep12 '$work/copies' -o '$work/bt' > /dev/null"
	} | column -t -s$'\t'
	echo "(the machine is shared: compare cpu s when wall s is noisy; uptime: $(uptime | sed 's/.*load/load/'))"
fi

if [ -z "${SKIP_RECORD:-}" ]; then
	echo
	echo "== recorder against trade serve --speed 0 (scripts/bench-record.sh)"
	scripts/bench-record.sh
fi

if [ -z "${SKIP_LIVE:-}" ]; then
	# Issue 9: the live engine (engine.Live, the driver of trade live) against
	# trade serve --betting at real speed. The markets are copies of the
	# tar's, each with an id of its own and only its last 10 minutes before
	# the off (and 2 after), all started together: every market busy at
	# once, a heavier load than a real day's (see livebench's doc). The
	# strategy places a bet on every Nth update of each open pre-play
	# market; tick-to-trade is from the change read off the socket to its
	# placeOrders request written to the connection. Client only: the
	# exchange runs in its own process, a fresh one for each client.
	# flumine 2.13 in live mode runs the same strategy against the same
	# markets, timed the same way (scripts/bench/flumine_live.py), after
	# livebench's 200-market run.
	livebench=$work/bin/livebench
	exchange_up() { # DIR: a local exchange over DIR at real speed, its --info in $work/ex.json
		rm -f "$work/ex.json"
		"$trade" serve "$1" --betting --balance 1000000 --speed 1 --info "$work/ex.json" > /dev/null 2> "$work/serve.log" &
		serve=$!
	}
	exchange_down() { # [SECONDS]: stops the exchange; says how many changes it sent (a second)
		kill "$serve"; wait "$serve" 2>/dev/null || true
		n=$(sed -n 's/.*"msg":"trade serve stopped".*"changes":\([0-9]*\).*/\1/p' "$work/serve.log")
		echo "market changes sent: $n${1:+, $(( n / $1 )) a second}"
	}
	flumine=
	if [ -n "${SKIP_FLUMINE:-}" ]; then
		echo "(flumine's tick-to-trade not run: SKIP_FLUMINE is set)" >&2
	elif [ -z "${FLUMINE_ROOT:-}" ] || [ ! -d "$FLUMINE_ROOT/flumine/flumine" ] || [ ! -d "$FLUMINE_ROOT/betfair/betfairlightweight" ]; then
		echo "(flumine's tick-to-trade not run: flumine's sources are absent; set FLUMINE_ROOT, see scripts/golden/flumine/README.md)" >&2
	else
		flumine=1
	fi
	for spec in "200 10 90s" "1000 100 60s"; do
		set -- $spec
		"$livebench" prepare -markets "$1" -o "$work/live$1" "$tarfile"
		exchange_up "$work/live$1"
		echo
		echo "== live engine, $1 markets subscribed, a bet every $2 updates, $3 at real speed ($(uptime | sed 's/.*load/load/'))"
		"$livebench" -exchange-info "$work/ex.json" -duration "$3" -every "$2"
		exchange_down "${3%s}"
		if [ -n "$flumine" ] && [ "$1" = 200 ]; then
			exchange_up "$work/live$1"
			echo
			echo "== flumine 2.13 live, the same markets and strategy, $3 at real speed ($(uptime | sed 's/.*load/load/'))"
			PYTHONPATH="$root/scripts/golden/flumine/stubs:$FLUMINE_ROOT/flumine:$FLUMINE_ROOT/betfair" \
				"${PYTHON:-/usr/bin/python3}" scripts/bench/flumine_live.py --exchange-info "$work/ex.json" \
				--duration "${3%s}" --every "$2" --breakdown 2> "$work/flumine.log" ||
				{ tail -20 "$work/flumine.log"; echo "flumine_live failed"; }
			exchange_down
		fi
		[ "$1" = 1000 ] || rm -rf "$work/live$1"
	done
fi

if [ -z "${SKIP_LIVE:-}" ] && [ -z "${SKIP_LIVE_PROCESS:-}" ]; then
	# Issue 9: the trade live process itself (the command, not the engine
	# alone: status, metrics, funds polling, journal, results) with 1,000
	# markets subscribed, against trade serve --betting at real speed (not
	# lockstep), the same 1,000 markets as above. passive-back places and
	# cancels on every market. Peak RSS and CPU (user+sys over wall) of the
	# trade live process only; the exchange runs in its own. Twice: as
	# shipped (trade live collects at GOGC=50), and with Go's default
	# GOGC=100.
	[ -d "$work/live1000" ] || "$work/bin/livebench" prepare -markets 1000 -o "$work/live1000" "$tarfile"
	echo
	echo "== trade live process, 1000 markets subscribed, passive-back, 60s at real speed"
	for gogc in header "" 100; do
		if [ "$gogc" = header ]; then
			printf 'run\twall s\tcpu s\tpeak RSS MiB\tcpu share\tchanges/s\n'
			continue
		fi
		exchange_up "$work/live1000"
		# Loading 1,000 tapes takes the exchange a while: trade live's
		# wall time starts once it serves.
		while [ ! -s "$work/ex.json" ]; do sleep 1; done
		label="as shipped"
		[ -z "$gogc" ] || label="GOGC=$gogc"
		line=$(env ${gogc:+GOGC=$gogc} "$measure" -label "$label" -- \
			"$trade" live --strategy passive-back --exchange-info "$work/ex.json" --exchange-info-wait 5m --duration 60s -o "$work/liveout" --log-level warn) || true
		n=$(exchange_down | sed 's/[^0-9]*\([0-9]*\).*/\1/')
		echo "$line" | awk -F'\t' -v n="$n" '{ printf "%s\t%s\t%s\t%s\t%.1f%%\t%d\n", $1, $2, $3, $4, 100 * $3 / $2, n / $2 }'
		rm -rf "$work/liveout"
	done | column -t -s$'\t'
	rm -rf "$work/live1000"
fi
