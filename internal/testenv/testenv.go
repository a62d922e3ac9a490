// Package testenv finds the data tests read: the repository's testdata and
// the project's shared reference data, which lies beside the repository as
// ../shared (in a developer's tree and in CI's fresh clone alike) and is not
// copied into the repository for licence reasons.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, found by walking up from
// the test's working directory (its package directory).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Testdata returns the path of name under the repository's testdata/.
func Testdata(tb testing.TB, name string) string {
	tb.Helper()
	return filepath.Join(RepoRoot(tb), "testdata", name)
}

// SharedDir returns the shared reference data directory: $TAPEDECK_SHARED
// if set, else ../shared beside the repository. It returns "" when neither
// exists.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("TAPEDECK_SHARED"); d != "" {
		return d
	}
	d := filepath.Join(filepath.Dir(RepoRoot(tb)), "shared")
	if _, err := os.Stat(filepath.Join(d, "data")); err != nil {
		return ""
	}
	return d
}

// Shared returns the path of name under the shared data directory (for
// example "data/historic/pro-greyhounds-2022-03-01.tar"). When the shared
// data or that file is absent it skips the test with a message, or, when
// $CI is set, fails it: CI must never pass by skipping.
func Shared(tb testing.TB, name string) string {
	tb.Helper()
	d := SharedDir(tb)
	if d == "" {
		Missing(tb, "shared reference data not found (../shared beside the repository, or $TAPEDECK_SHARED): the test reads "+name)
	}
	p := filepath.Join(d, name)
	if _, err := os.Stat(p); err != nil {
		Missing(tb, "shared reference file "+name+" absent: "+err.Error())
	}
	return p
}

// Missing reports that something a test needs is not here: a skip with msg
// on a developer's machine, a failure when $CI is set.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatal(msg + " (CI is set, so this is a failure, not a skip)")
		return // Fatal does not return; a fake TB's may
	}
	tb.Skip(msg)
}

// LongEnv is the environment variable that asks for the long tests:
// scripts/test.sh sets it, and $CI implies it.
const LongEnv = "TAPEDECK_LONG"

// Long skips tb unless the long tests were asked for ($TAPEDECK_LONG or
// $CI set, and not -short). The long tests are the archive-scale variants:
// the shared greyhound archive replayed end to end through a command,
// several times over. They are most of a plain `go test ./...`'s time and
// check at scale what the bundled tapes already check in a developer's
// run, so that run stays under two minutes; scripts/test.sh runs them all.
func Long(tb testing.TB) {
	tb.Helper()
	if !LongWanted() {
		tb.Skip("archive-scale variant: runs in scripts/test.sh, or with " + LongEnv + "=1")
	}
}

// LongWanted reports whether the long tests were asked for (see Long), for
// a test that does less rather than skipping.
func LongWanted() bool {
	return !testing.Short() && (os.Getenv(LongEnv) != "" || os.Getenv("CI") != "")
}
