// Package tradeclitest holds what tests of trade commands share: today, the
// check that trade paper on a local exchange replaying tapes writes the
// tables trade backtest writes for the same tapes. A user's own strategy
// binary can run the same check on its strategy (see examples/favourite).
package tradeclitest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/tradecli"
)

// PaperEqualsBacktest runs `trade backtest` over inputs, then `trade paper`
// on a local exchange replaying the same inputs and subscribed to
// marketIDs (comma-separated), both with args (--strategy and --param
// flags), and fails t unless orders.csv and markets.csv hold the same rows
// and at least one. It returns trade paper's standard output.
func PaperEqualsBacktest(t *testing.T, reg *strategies.Registry, args, inputs []string, marketIDs string) string {
	t.Helper()
	dir := t.TempDir()
	bt, pp := filepath.Join(dir, "backtest"), filepath.Join(dir, "paper")
	cmd := tradecli.BacktestCommand(reg)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs(append(append(append([]string(nil), args...), "-o", bt, "--workers", "1"), inputs...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("trade backtest: %v", err)
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
	cmd = tradecli.PaperCommand(reg)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(append([]string(nil), args...), "-o", pp, "--exchange-info", info, "--market-ids", marketIDs))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("trade paper: %v\n%s", err, out.String())
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
		if bytes.Count(want, []byte("\n")) < 2 {
			t.Errorf("%s holds no row: the comparison shows nothing", f)
		}
	}
	return out.String()
}

// sortedRows returns a CSV file with its rows (not its header) sorted.
func sortedRows(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) > 1 {
		slices.SortFunc(lines[1:], bytes.Compare)
	}
	return bytes.Join(lines, []byte("\n"))
}
