package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that notes how a helper ended the test.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()              {}
func (r *recorder) Skip(...any)          { r.skipped = true }
func (r *recorder) Fatal(...any)         { r.failed = true }
func (r *recorder) Skipf(string, ...any) { r.skipped = true }

// A missing shared file skips a test locally and fails it under CI.
func TestSharedMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TAPEDECK_SHARED", dir)
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		Shared(r, "data/not-there")
		if r.skipped != (ci == "") || r.failed != (ci != "") {
			t.Errorf("CI=%q: skipped %v, failed %v", ci, r.skipped, r.failed)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "here"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	if p := Shared(r, "data/here"); p != filepath.Join(dir, "data", "here") || r.skipped || r.failed {
		t.Errorf("Shared(data/here) = %s, skipped %v, failed %v", p, r.skipped, r.failed)
	}
}

// The long tests run when TAPEDECK_LONG or CI asks for them, and skip
// otherwise (and always under -short, which this test is not run with).
func TestLong(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: Long always skips")
	}
	for _, c := range []struct {
		long, ci string
		run      bool
	}{{"", "", false}, {"1", "", true}, {"", "true", true}, {"1", "true", true}} {
		t.Setenv(LongEnv, c.long)
		t.Setenv("CI", c.ci)
		r := &recorder{TB: t}
		Long(r)
		if r.skipped == c.run || LongWanted() != c.run {
			t.Errorf("%s=%q CI=%q: skipped %v, LongWanted %v; want run %v", LongEnv, c.long, c.ci, r.skipped, LongWanted(), c.run)
		}
	}
}
