#!/usr/bin/env bash
# scripts/bench-parquet.sh — convert parquet before and after a change, on a
# shared machine: builds this tree and REV (default main), then runs them
# alternately ROUNDS times (default 5), with bzip2 -dc in every round as the
# yardstick, on Betfair's greyhound archive (from ../shared, or
# TAPEDECK_SHARED) and on the same markets as zstd tapes. It prints the
# median and least wall and CPU time, peak RSS, minor page faults, market
# changes a second (of the median wall time) and a CPU-second, and the load
# average before and after: when other work shares the cores, compare CPU
# time, never wall time.
#
#   scripts/bench-parquet.sh              this tree against main
#   ROUNDS=9 scripts/bench-parquet.sh REV this tree against REV
#
# Needs Go, git, bzip2, zstd and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rev=${1:-main}
rounds=${ROUNDS:-5}
shared=${TAPEDECK_SHARED:-$root/../shared}
tarfile=$shared/data/historic/pro-greyhounds-2022-03-01.tar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/bin" "$work/old" "$work/members" "$work/zst"
go build -o "$work/bin/" ./internal/tools/measure
go build -o "$work/bin/new" ./cmd/convert
git archive "$rev" | tar -x -C "$work/old"
(cd "$work/old" && go build -o "$work/bin/old" ./cmd/convert)
tar xf "$tarfile" -C "$work/members"
(cd "$work/members" && find . -name '*.bz2' | sort) > "$work/members.txt"
while read -r f; do bzip2 -dc "$work/members/$f" | zstd -q -3 -o "$work/zst/$(basename "$f" .bz2).zst"; done < "$work/members.txt"
changes=$("$work/bin/new" stats --json --workers 2 "$tarfile" | sed -n 's/^    "market_changes": \([0-9]*\),$/\1/p' | tail -1)

echo "== convert parquet --workers 2, $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes') (new) against $rev (old), $rounds rounds alternated"
load0=$(uptime | sed 's/.*load/load/')
m() { "$work/bin/measure" -faults -label "$@"; }
for _ in $(seq 1 "$rounds"); do
	m "bzip2 -dc over the members, 2 processes" sh -c "cd '$work/members' && xargs -P2 -n4 bzip2 -dc < '$work/members.txt' > /dev/null"
	for b in old new; do
		rm -rf "$work/pq"
		m "$b, the tar" "$work/bin/$b" parquet --workers 2 "$tarfile" -o "$work/pq"
		rm -rf "$work/pq"
		m "$b, zstd tapes" "$work/bin/$b" parquet --workers 2 "$work/zst" -o "$work/pq"
	done
done > "$work/runs.tsv"
python3 - "$changes" "$work/runs.tsv" <<'EOF'
import collections, statistics, sys
changes, runs = int(sys.argv[1]), collections.defaultdict(list)
for line in open(sys.argv[2]):
    label, *v = line.rstrip("\n").split("\t")
    runs[label].append([float(x) for x in v])
print("| run | wall s, median (least) | CPU s, median (least) | peak RSS MiB | minor faults | changes/s | changes/CPU-s |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for label, v in runs.items():
    wall, cpu, rss, flt = (statistics.median(c) for c in zip(*v))
    print(f"| {label} | {wall:.3f} ({min(r[0] for r in v):.3f}) | {cpu:.3f} ({min(r[1] for r in v):.3f}) | {rss:.1f} | {flt:,.0f} "
          f"| {changes / wall:,.0f} | {changes / cpu:,.0f} |")
EOF
echo "($changes market changes; $load0 before, $(uptime | sed 's/.*load/load/') after)"
