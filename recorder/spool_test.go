package recorder

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/store"
)

// TestSpoolLocked: a second recorder on a spool in use is refused with the
// first's pid, and may start once the first has shut down.
func TestSpoolLocked(t *testing.T) {
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	first := newTestRecorder(t, spool, st, clk, nil)
	_, err := New(Config{Spool: spool, Store: st})
	var le *LockedError
	if !errors.As(err, &le) || le.Pid != os.Getpid() {
		t.Fatalf("second recorder: err = %v, want a LockedError naming pid %d", err, os.Getpid())
	}
	if err := first.Shutdown(); err != nil {
		t.Fatal(err)
	}
	second, err := New(Config{Spool: spool, Store: st})
	if err != nil {
		t.Fatalf("after the first shut down: %v", err)
	}
	second.Shutdown()
}

// TestSpoolTapes: a spool that does not exist is an error, not an empty
// spool, and counting creates nothing.
func TestSpoolTapes(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo")
	if _, err := SpoolTapes(missing); err == nil {
		t.Error("missing spool: no error")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("SpoolTapes created %s", missing)
	}
	for _, f := range []string{"open/1.1.jsonl", "open/1.1.json", "closed/1.2.jsonl", "closed/1.2.meta", "done/1.3"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	if n, err := SpoolTapes(dir); n != 2 || err != nil {
		t.Errorf("SpoolTapes = %d, %v; want 2 tapes", n, err)
	}
}
