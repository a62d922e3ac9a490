#!/usr/bin/env bash
# scripts/test.sh — the README's test command: installs and starts what the
# tests need (an S3 server), then runs go vet and every test: with the race
# detector where there is concurrency, and the long single-goroutine golden
# comparisons without it (the race detector slows them ten-fold and has
# nothing to find in them). Nothing is dropped: every test runs in one of
# the two runs. It ends with the slowest packages and tests.
#
# Needs only Go. Tests that read ../shared (reference data that is not
# copied into this repo) skip with a message when it is absent.
set -euo pipefail
# The archive-scale variants (internal/testenv.Long) run here, never only
# in CI: a developer's plain `go test ./...` leaves them out to stay fast.
export TAPEDECK_LONG=1
cd "$(dirname "$0")/.."

echo "== S3 server for the tests (versitygw on 127.0.0.1)"
# Installs versitygw with go install when missing, starts it on a free
# loopback port with a throwaway directory, exports TAPEDECK_TEST_S3_ENDPOINT
# and credentials, and stops it when this script exits.
source scripts/s3server.sh

echo "== chromium for the strategy report's browser test"
# tradecli/report's test opens the HTML report in Debian's headless chromium;
# it skips with a message when chromium is absent, and fails under $CI.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && ! command -v google-chrome >/dev/null; then
	if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null
	elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
		sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
	else
		echo "no chromium and no apt-get: the report's browser test will skip (fail under CI)"
	fi
fi

echo "== go vet"
go vet ./...

echo "== release build: scripts/build.sh (as the Dockerfile runs it), this platform only"
VERSION=ci-build scripts/build.sh
"dist/$(go env GOOS)_$(go env GOARCH)/tapedeck" --version | grep -q 'version ci-build$'

echo "== docs/trade.md's own-strategy recipe, as written, in an empty directory"
scripts/recipe-test.sh > /dev/null

# serial_only: top-level tests the race detector slows ten-fold and has
# nothing to find in, in the packages listed: (1) one long comparison or
# measurement on one goroutine at a time (decoders, caches, golden and
# round-trip comparisons, sweeps against separate runs, sizes and
# allocations, the crash points of a compaction one after another), whose
# code the packages' other tests run under -race; (2) end-to-end tests whose
# work is done by a command binary they build and run as a separate process,
# which -race does not instrument (the test only starts, kills and reads
# back). The race run skips them and the plain run runs just them.
# plain_pkgs have no goroutines of their own and run whole in the plain run:
# internal/bzip2, and pipeline/tables (pure rows from one replay; its tests
# read tapes through tape, whose concurrency tape's own tests run under
# -race).
# both: tests that run in both runs: under -race over the bundled tapes or
# generated inputs (testenv.RaceEnabled), without it over the greyhound tar
# too (among them the paper and live parity tests, examples/favourite's
# TestLiveEqualsBacktest included).
serial_only='TestBooksMatchBetfairlightweight|TestSteadyStateDoesNotAllocate|TestDecodersAgree|FuzzApply|TestDecodeDifferential|TestDecodeRealLines|FuzzDecode|TestWriteBooksMatchesBetfairlightweight|TestDecodeAllocs|TestSnapshotsRoundTrip|TestLadderDeltasRoundTrip|TestWriterLayoutAndFormat|TestSlotsEqualSeparateRuns|TestSweepEqualsSeparateRuns|TestReportSize|TestFinalBooksGreyhoundTar|TestEndToEndGreyhoundTar|TestCompactInterrupted|TestCompact|TestCompactLeavesInputsListedTwice|TestParquetDepthMatchesBooks|TestParquetE2EKillResume|TestParquetE2ES3|TestBooksInterrupted'
both='TestAgreesWithFlumine|TestLiveCommandEqualsBacktest|TestPaperCommandEqualsBacktest|TestLiveEqualsBacktest|TestClientReplayArchive|TestForEach|TestSharedTar|TestShardsCoverTheRun|TestLiveStreamBeforeReply|TestLiveRestartAfterSIGKILL'
serial="^(${serial_only}|${both})$"
race_skip="^(${serial_only})$"
serial_pkgs=(./engine/book ./engine/esa ./pipeline ./engine/strategies ./pipeline/parquet ./engine ./tradecli ./tradecli/report ./internal/cmd/record ./internal/cmd/convert ./tape ./examples/favourite)
plain_pkgs=(./internal/bzip2 ./pipeline/tables)
mapfile -t race_pkgs < <(go list ./... | grep -v -x -e github.com/tapedeck/tapedeck/internal/bzip2 -e github.com/tapedeck/tapedeck/pipeline/tables)

echo "== go test -race (concurrent code), then go test (serial tests) -- see the end for timings"
# interop/ is a separate module so the main module stays free of cgo, hence
# not covered by ./... above. Its test builds convert, converts the samples
# (and ../shared's greyhound archive when present) and checks the README's
# example queries with DuckDB against convert books output. The first build
# links DuckDB (about a minute). It runs beside the plain run, whose long
# single-goroutine tests leave a core idle much of the time; its output is
# printed after the summary.
interop_log=$(mktemp)
interop_status=$(mktemp)
# Keep the EXIT trap scripts/s3server.sh set (it stops the S3 server).
trap "rm -f '$interop_log' '$interop_status'; $(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")" EXIT
# -count=1: never report a cached pass as a fresh one. Both runs report as
# JSON to testsummary, which prints the usual output and then the slowest.
(
	status=0
	go test -json -race -count=1 -timeout 30m -skip "${race_skip}" "${race_pkgs[@]}" || status=1
	( (cd interop && go vet ./... && go test -count=1 ./...) > "$interop_log" 2>&1; echo $? > "$interop_status" ) &
	go test -json -count=1 -timeout 30m -run "$serial" "${serial_pkgs[@]}" || status=1
	go test -json -count=1 -timeout 30m "${plain_pkgs[@]}" || status=1
	wait
	exit $status
) | go run ./internal/tools/testsummary -n 15

echo "== interop: DuckDB reads the Parquet dataset (module interop/, cgo), run beside the plain run"
cat "$interop_log"
[ "$(cat "$interop_status")" = 0 ]
