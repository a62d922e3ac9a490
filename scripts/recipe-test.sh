#!/usr/bin/env bash
# scripts/recipe-test.sh — runs the "write your own strategy" recipe in
# docs/trade.md exactly as written (the sh block after the "<!-- recipe"
# marker) from the repository root, so the copy-paste recipe cannot rot.
# scripts/test.sh runs it. It needs the network only for the Go module proxy
# (the recipe's go mod tidy), and not even that when the module cache holds
# tapedeck's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

block=$(awk '
	/^<!-- recipe/ { armed = 1; next }
	armed && /^```sh$/ { inside = 1; next }
	inside && /^```$/ { exit }
	inside { print }
' docs/trade.md)
if [ -z "$block" ]; then
	echo "recipe-test.sh: no sh block after a '<!-- recipe' marker in docs/trade.md" >&2
	exit 1
fi

# The recipe's mktemp -d lands in a directory this script removes.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! out=$(TMPDIR="$work" bash -euo pipefail -c "$block" 2>&1); then
	printf '%s\n' "$out" >&2
	echo "recipe-test.sh: the recipe in docs/trade.md failed" >&2
	exit 1
fi
printf '%s\n' "$out"
# The backtest ran the user's strategy and wrote its results.
if ! grep -q '^strategy *mine' <<< "$out"; then
	echo "recipe-test.sh: the recipe's backtest printed no summary of strategy mine" >&2
	exit 1
fi
for f in orders.parquet orders.csv markets.parquet markets.csv; do
	if ! compgen -G "$work/*/out/$f" > /dev/null; then
		echo "recipe-test.sh: the recipe's backtest wrote no $f" >&2
		exit 1
	fi
done
echo "recipe-test.sh: the recipe in docs/trade.md builds and backtests"
