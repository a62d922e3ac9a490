#!/usr/bin/env bash
# Regenerates testdata/golden/flumine/ : both reference strategies over the
# three input sets, through flumine 2.13's simulator. See README.md here for
# how FLUMINE_ROOT is prepared (flumine + betfairlightweight checkouts and the
# betdaq/betconnect stand-ins); nothing is fetched from the network.
#
#   FLUMINE_ROOT=/tmp/fl8 scripts/golden/flumine/run_all.sh
#
# Wall times go to testdata/golden/flumine/timings.txt.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="${SHARED_DATA:-$repo/../shared/data}"
root="${FLUMINE_ROOT:-/tmp/fl8}"
py="${PYTHON:-/usr/bin/python3}"
out="$repo/testdata/golden/flumine"
grey="$root/grey"

export PYTHONPATH="$here:$here/stubs:$root/flumine:$root/betfair"

# The greyhound tar is reference only: its members are extracted to /tmp,
# never into the repository.
if [ ! -d "$grey/PRO" ]; then
	mkdir -p "$grey"
	tar xf "$data/historic/pro-greyhounds-2022-03-01.tar" -C "$grey"
fi
mapfile -t grey_files < <(find "$grey/PRO" -name '*.bz2' | sort)

# Supplementary in-play markets from flumine's tests/resources (MIT), kept
# zstd-compressed in testdata/golden/flumine/inputs/; flumine reads them
# decompressed (byte-identical to flumine's files).
mkdir -p "$root/inputs"
for f in SELF-1.181223995 1.200806927; do
	zstd -q -d -f "$out/inputs/$f.zst" -o "$root/inputs/$f"
done

run() { # strategy set [--historic] files...
	local strategy=$1 set=$2
	shift 2
	mkdir -p "$out/$strategy"
	local o="$out/$strategy/$set.orders.jsonl" m="$out/$strategy/$set.markets.jsonl"
	rm -f "$o" "$o.zst"
	local TIMEFORMAT='real %R s, user %U s, sys %S s' times
	# bash's `time` around the whole process (interpreter start, imports,
	# reading, simulating, writing); run_seconds in the JSON is run() alone.
	times=$({ time "$py" "$here/run_backtest.py" --strategy "$strategy" --orders "$o" \
		--markets "$m" "$@" 2>"$out/$strategy/$set.stderr"; } 2>&1)
	local n
	n=$(wc -l <"$o")
	printf '%s\t%s\t%s orders\t%s\t%s\n' "$strategy" "$set" "$n" "$times" \
		"$(tail -1 "$out/$strategy/$set.stderr")" | tee -a "$out/timings.txt"
	rm -f "$out/$strategy/$set.stderr"
	if [ "$(stat -c %s "$o")" -gt 200000 ]; then
		zstd -q -19 --rm "$o"
	fi
}

: >"$out/timings.txt"
for strategy in lowest-layer passive-back; do
	run "$strategy" streams "$data/streams/1.197931750" "$data/streams/1.197931751"
	run "$strategy" historic-1.205822330 --historic "$data/historic/1.205822330.bz2"
	run "$strategy" greyhounds-2022-03-01 --historic "${grey_files[@]}"
	run "$strategy" flumine-SELF-1.181223995 "$root/inputs/SELF-1.181223995"
	run "$strategy" flumine-1.200806927 "$root/inputs/1.200806927"
done
