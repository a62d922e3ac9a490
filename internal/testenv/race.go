//go:build race

package testenv

// RaceEnabled reports whether the tests were built with -race. A test whose
// work is heavy under the race detector may do less of it then, when the
// whole of it also runs without -race (scripts/test.sh runs both).
const RaceEnabled = true
