package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/internal/cli"
)

// TestConfigReadableByOthers: a --config file group or others may read is
// refused with exit 2 and the chmod to run, as ssh refuses such a key.
func TestConfigReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o644, false}, {0o604, false}} {
		p := filepath.Join(dir, "tapedeck.json")
		os.Remove(p)
		if err := os.WriteFile(p, []byte(`{"username":"u","password":"secret-pw"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, tc.mode)
		_, err := (&credFlags{config: p}).resolve()
		if tc.ok {
			if err != nil {
				t.Errorf("mode %04o: %v", tc.mode, err)
			}
			continue
		}
		if err == nil || cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "chmod 600 "+p) || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("mode %04o: err = %v, want exit 2 with the chmod to run", tc.mode, err)
		}
	}
}

// TestFlushSpool: record flush on a spool that does not exist exits 1 and
// creates nothing; with defaults and nothing to flush it creates neither
// ./spool nor ./tapes.
func TestFlushSpool(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo")
	dest := filepath.Join(dir, "tapes")
	root := newRootCmd()
	root.SetArgs([]string{"flush", "--spool", typo, "--dest", dest, "--log-level", "error"})
	root.SetOut(&bytes.Buffer{})
	err := root.Execute()
	if err == nil || cli.ExitCode(err) != cli.ExitFailure {
		t.Errorf("missing spool: err = %v (exit %d), want exit 1", err, cli.ExitCode(err))
	}
	for _, p := range []string{typo, dest} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("flush created %s", p)
		}
	}

	// An empty spool: nothing to flush, no destination made.
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(filepath.Join(spool, "closed"), 0o755)
	root = newRootCmd()
	root.SetArgs([]string{"flush", "--spool", spool, "--dest", dest, "--log-level", "error"})
	var out bytes.Buffer
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatalf("empty spool: %v", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("flush of an empty spool created %s", dest)
	}
	if !strings.Contains(out.String(), "uploaded 0 tapes") {
		t.Errorf("output %q", out.String())
	}
}
