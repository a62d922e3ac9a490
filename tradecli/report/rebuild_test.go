package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// TestReportRebuilds checks that trade report DIR makes, byte for byte,
// the report trade backtest --report wrote into DIR: everything the page
// shows is in the results directory.
func TestReportRebuilds(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "report.html")
	run := func(args ...string) string {
		cmd := tradecli.NewCommand(strategies.Builtins())
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	out := run("backtest", "--strategy", "passive-back", "-o", dir, "--report", first, testenv.Testdata(t, "tapes"))
	if !strings.Contains(out, "report          "+first) {
		t.Errorf("backtest does not print the report's path:\n%s", out)
	}
	again := filepath.Join(t.TempDir(), "again.html")
	if got := run("report", dir, "-o", again); strings.TrimSpace(got) != again {
		t.Errorf("trade report printed %q, want the path", got)
	}
	a, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("trade report made %d bytes, backtest --report %d: not the same page", len(b), len(a))
	}
	for _, want := range []string{`data-figure="net"`, `<svg class="chart"`, "passive-back"} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestReportNeedsResults checks the error for a directory that is not a
// results directory.
func TestReportNeedsResults(t *testing.T) {
	cmd := tradecli.NewCommand(strategies.Builtins())
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	dir := t.TempDir()
	cmd.SetArgs([]string{"report", dir, "-o", filepath.Join(dir, "r.html")})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "orders.parquet") || !strings.Contains(err.Error(), dir) {
		t.Errorf("err = %v, want one naming %s and orders.parquet", err, dir)
	}
}
