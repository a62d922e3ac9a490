package tradecli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// TestPaperCommandEqualsBacktest runs trade paper against a local exchange
// replaying the shared streams and finds the very tables trade backtest
// writes for the same tapes.
func TestPaperCommandEqualsBacktest(t *testing.T) {
	inputs := []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
	dir := t.TempDir()
	bt, pp := filepath.Join(dir, "backtest"), filepath.Join(dir, "paper")
	cmd := tradecli.BacktestCommand(strategies.Builtins())
	var btOut bytes.Buffer
	cmd.SetOut(&btOut)
	cmd.SetArgs(append([]string{"--strategy", "passive-back", "-o", bt, "--workers", "1"}, inputs...))
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}

	ex, err := exchange.New(exchange.Config{Tapes: inputs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ex.Serve(ctx) }()
	defer func() { stop(); <-served }()
	info := filepath.Join(dir, "ex.json")
	if err := ex.WriteInfo(info); err != nil {
		t.Fatal(err)
	}
	cmd = tradecli.PaperCommand(strategies.Builtins())
	var ppOut bytes.Buffer
	cmd.SetOut(&ppOut)
	cmd.SetErr(&ppOut)
	cmd.SetArgs([]string{"--strategy", "passive-back", "-o", pp, "--exchange-info", info, "--market-ids", "1.197931750,1.197931751"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, ppOut.String())
	}
	for _, f := range []string{"orders.csv", "markets.csv"} {
		want, err := os.ReadFile(filepath.Join(bt, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(pp, f))
		if err != nil {
			t.Fatal(err)
		}
		// trade backtest writes markets as they finish, in any order.
		if got, want := sortedRows(got), sortedRows(want); !bytes.Equal(got, want) {
			t.Errorf("%s differs:\npaper\n%s\nbacktest\n%s", f, got, want)
		}
	}
	if !strings.Contains(ppOut.String(), "orders          12 (10 matched") || !strings.Contains(ppOut.String(), "net             37.33") {
		t.Errorf("summary:\n%s", ppOut.String())
	}
}

func TestPaperCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "x", "--exchange-info", "e.json"}, "--strategy is required"},
		{[]string{"--strategy", "nope", "-o", "x", "--exchange-info", "e.json"}, "unknown strategy"},
		{[]string{"--strategy", "passive-back", "--exchange-info", "e.json"}, "-o DIR"},
		{[]string{"--strategy", "passive-back", "-o", "x"}, "--exchange-info FILE is required"},
		{[]string{"--strategy", "passive-back", "-o", "x", "--exchange-info", filepath.Join(t.TempDir(), "none.json"), "--exchange-info-wait", "0s"}, "waited 0s"},
	} {
		cmd := tradecli.PaperCommand(strategies.Builtins())
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

// sortedRows returns a CSV file with its rows (not its header) sorted.
func sortedRows(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) > 1 {
		rows := lines[1:]
		slices.SortFunc(rows, bytes.Compare)
	}
	return bytes.Join(lines, []byte("\n"))
}
