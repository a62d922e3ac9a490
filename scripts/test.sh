#!/usr/bin/env bash
# scripts/test.sh — the README's test command: installs and starts what the
# tests need, then runs go vet and every test with the race detector.
#
# Needs only Go. Tests that read ../shared (reference data that is not
# copied into this repo) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...

echo "== go test -race ./..."
# -count=1: never report a cached pass as a fresh one.
go test -race -count=1 -timeout 30m ./...
