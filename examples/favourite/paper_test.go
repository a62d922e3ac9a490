package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// TestPaperEqualsBacktest runs the example, unchanged, by trade paper
// against a local exchange replaying the streams, and finds trade
// backtest's tables.
func TestPaperEqualsBacktest(t *testing.T) {
	reg := strategies.Builtins()
	if err := reg.Register(Info()); err != nil {
		t.Fatal(err)
	}
	inputs := []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
	dir := t.TempDir()
	bt, pp := filepath.Join(dir, "backtest"), filepath.Join(dir, "paper")
	cmd := tradecli.BacktestCommand(reg)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs(append([]string{"--strategy", "favourite", "--param", "stake=5", "-o", bt}, inputs...))
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
	cmd = tradecli.PaperCommand(reg)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"--strategy", "favourite", "--param", "stake=5", "-o", pp, "--exchange-info", info, "--market-ids", "1.197931750,1.197931751"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
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
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs:\npaper\n%s\nbacktest\n%s", f, got, want)
		}
		if bytes.Count(want, []byte("\n")) < 2 {
			t.Errorf("%s holds no row: the comparison shows nothing", f)
		}
	}
}
