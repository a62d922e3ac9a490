#!/usr/bin/env bash
# Checks docs/flumine-notes.md against the goldens: check_rules.py (an
# independent re-implementation of the notes, no flumine import) over every
# set, both strategies. Exit status non-zero if any order or market differs.
#
#   FLUMINE_ROOT=/tmp/fl8 scripts/golden/flumine/check_all.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="${SHARED_DATA:-$repo/../shared/data}"
root="${FLUMINE_ROOT:-/tmp/fl8}"
g="$repo/testdata/golden/flumine"
grey="$root/grey"

if [ ! -d "$grey/PRO" ]; then
	mkdir -p "$grey"
	tar xf "$data/historic/pro-greyhounds-2022-03-01.tar" -C "$grey"
fi
mapfile -t grey_files < <(find "$grey/PRO" -name '*.bz2' | sort)
mkdir -p "$root/inputs"
for f in SELF-1.181223995 1.200806927; do
	[ -f "$root/inputs/$f" ] || zstd -q -d -f "$g/inputs/$f.zst" -o "$root/inputs/$f"
done

rc=0
for s in lowest-layer passive-back; do
	python3 "$here/check_rules.py" --strategy "$s" --golden "$g/$s/streams" \
		"$data/streams/1.197931750" "$data/streams/1.197931751" || rc=1
	python3 "$here/check_rules.py" --strategy "$s" --golden "$g/$s/historic-1.205822330" \
		"$data/historic/1.205822330.bz2" || rc=1
	python3 "$here/check_rules.py" --strategy "$s" --golden "$g/$s/greyhounds-2022-03-01" \
		"${grey_files[@]}" || rc=1
	python3 "$here/check_rules.py" --strategy "$s" --golden "$g/$s/flumine-SELF-1.181223995" \
		"$root/inputs/SELF-1.181223995" || rc=1
	python3 "$here/check_rules.py" --strategy "$s" --golden "$g/$s/flumine-1.200806927" \
		"$root/inputs/1.200806927" || rc=1
done
exit $rc
