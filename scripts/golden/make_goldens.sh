#!/bin/sh
# Regenerate testdata/golden/books/*.jsonl.zst from the inputs in testdata/
# with betfairlightweight (bflw). bflw is not part of this repository: fetch
# https://github.com/betcode-org/betfair at the commit named in
# testdata/golden/README.md into a directory and pass it as BFLW, e.g.
#   BFLW=/tmp/bflw scripts/golden/make_goldens.sh
# Run from the repository root. Needs python3 (with requests, orjson) and zstd.
set -eu
: "${BFLW:?set BFLW to a betfairlightweight checkout (see testdata/golden/README.md)}"
export PYTHONPATH="$BFLW"
out=testdata/golden/books
mkdir -p "$out"

# gold NAME INPUT [flags...]: one golden file, zstd -19, deterministic.
gold() {
	name=$1
	shift
	python3 scripts/golden/bflw_books.py "$@" | zstd -q -19 --no-progress -f -o "$out/$name.jsonl.zst"
}

for f in BASIC-1.132153978 1.205822330.bz2 1.164917629.bz2 1.197931750 1.197931751; do
	gold "${f%.bz2}" "testdata/tapes/$f"
done
for f in testdata/messages/*.jsonl; do
	n=$(basename "$f" .jsonl)
	gold "$n" "$f"
done
for f in BASIC-1.132153978 1.205822330.bz2; do
	gold "${f%.bz2}.cumulative" "testdata/tapes/$f" --cumulative-runner-tv
	gold "${f%.bz2}.calctv" "testdata/tapes/$f" --calculate-market-tv
done
# ORDER-1.177596575, RACE-1.140075353 and CRICKET-1.179676557 yield no market
# books (bflw's market stream only reads "mc"), so they have no golden file.
