package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// TestEndToEnd runs the example through the same backtest command a user's
// build gets, over the recorded streams, and reads its orders back.
func TestEndToEnd(t *testing.T) {
	reg := strategies.Builtins()
	if err := reg.Register(Info()); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := tradecli.BacktestCommand(reg)
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"--strategy", "favourite", "--param", "stake=5", "-o", out,
		testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "markets         2") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	f, err := os.Open(filepath.Join(out, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 { // header and at least one back per market
		t.Fatalf("%d rows:\n%v", len(rows), rows)
	}
	for _, r := range rows[1:] {
		if r[3] != "favourite" || r[10] != "5" {
			t.Errorf("row %v: want strategy favourite, size 5", r)
		}
	}
	t.Logf("summary:\n%s", stdout.String())
}
