// Package tradeclitest holds what tests of trade commands share: today, the
// check that trade paper, and trade live on a local exchange taking bets,
// write the tables trade backtest writes for the same tapes. A user's own strategy
// binary can run the same check on its strategy (see examples/favourite).
package tradeclitest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/tradecli"
)

// PaperEqualsBacktest runs `trade backtest` over inputs, then `trade paper`
// on a local exchange replaying the same inputs and subscribed to
// marketIDs (comma-separated; empty: every market the backtest replayed), both with args (--strategy and --param
// flags), and fails t unless orders.csv and markets.csv hold the same rows
// and at least one. It returns trade paper's standard output.
func PaperEqualsBacktest(t *testing.T, reg *strategies.Registry, args, inputs []string, marketIDs string) string {
	t.Helper()
	out, _ := equalsBacktest(t, tradecli.PaperCommand(reg), nil, exchange.Config{Tapes: inputs}, localInfo, reg, args, inputs, marketIDs, "")
	return out
}

// LiveEqualsBacktest is PaperEqualsBacktest for `trade live --lockstep`
// against a local exchange taking bets in lockstep (trade serve --betting
// --lockstep): real orders over the Betting API, matched by the exchange,
// must come to the backtest's rows. Only queue_ahead_at_place, the
// simulated queue a backtest's order joined, is left out: an exchange does
// not tell it.
func LiveEqualsBacktest(t *testing.T, reg *strategies.Registry, args, inputs []string, marketIDs string) string {
	t.Helper()
	return LiveWithEqualsBacktest(t, reg, args, nil, inputs, marketIDs)
}

// LiveWithEqualsBacktest is LiveEqualsBacktest with flags for trade live
// alone (--async, say) beside args, which both commands get.
func LiveWithEqualsBacktest(t *testing.T, reg *strategies.Registry, args, liveArgs, inputs []string, marketIDs string) string {
	t.Helper()
	out, _ := equalsBacktest(t, tradecli.LiveCommand(reg), append([]string{"--lockstep"}, liveArgs...), lockstep(inputs), localInfo, reg, args, inputs, marketIDs, "queue_ahead_at_place")
	return out
}

// LiveAsAccountEqualsBacktest is LiveEqualsBacktest logged in as an
// account would be on Betfair: the local exchange's endpoints are given as
// --identity-url, --betting-url, --stream-addr and --ca instead of
// --exchange-info, so the credentials of the flags, the environment and
// --config are the ones sent; account are trade live's own flags (the
// credential flags, --log-level). It returns trade live's output (standard
// output and error) and its -o directory, for a test to look for secrets.
func LiveAsAccountEqualsBacktest(t *testing.T, reg *strategies.Registry, args, account, inputs []string, marketIDs string) (out, dir string) {
	t.Helper()
	return equalsBacktest(t, tradecli.LiveCommand(reg), append([]string{"--lockstep"}, account...), lockstep(inputs), endpointFlags, reg, args, inputs, marketIDs, "queue_ahead_at_place")
}

// lockstep is a local exchange replaying inputs that takes bets in
// lockstep.
func lockstep(inputs []string) exchange.Config {
	return exchange.Config{Tapes: inputs, Betting: ledger.New(ledger.Config{}), Lockstep: true}
}

// localInfo names the exchange by the file trade serve --info writes.
func localInfo(_ *testing.T, info string) []string { return []string{"--exchange-info", info} }

// endpointFlags names the exchange as Betfair's endpoints are named.
func endpointFlags(t *testing.T, info string) []string {
	t.Helper()
	i, err := exchange.ReadInfo(context.Background(), info, 0)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"--identity-url", i.Identity, "--betting-url", i.Betting, "--stream-addr", i.Stream, "--ca", i.CA}
}

// equalsBacktest runs trade backtest over inputs and cmd (trade paper or
// trade live, given its own flags too) against an exchange made with cfg
// and named to cmd by the flags where returns (given the exchange's info
// file), and compares their tables, all columns but the one named ignore.
// It returns cmd's output and its -o directory.
func equalsBacktest(t *testing.T, cmd *cobra.Command, own []string, cfg exchange.Config, where func(*testing.T, string) []string,
	reg *strategies.Registry, args, inputs []string, marketIDs, ignore string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	bt, pp := filepath.Join(dir, "backtest"), filepath.Join(dir, cmd.Name())
	backtest := tradecli.BacktestCommand(reg)
	backtest.SetOut(&bytes.Buffer{})
	backtest.SetArgs(append(append(append([]string(nil), args...), "-o", bt, "--workers", "1"), inputs...))
	if err := backtest.Execute(); err != nil {
		t.Fatalf("trade backtest: %v", err)
	}

	if marketIDs == "" {
		// Every market the backtest replayed.
		csv, err := os.ReadFile(filepath.Join(bt, "markets.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range strings.Split(strings.TrimSpace(string(csv)), "\n")[1:] {
			ids = append(ids, strings.SplitN(l, ",", 2)[0])
		}
		marketIDs = strings.Join(ids, ",")
	}
	_, info := Exchange(t, cfg)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append(append(append(append([]string(nil), args...), own...), where(t, info)...), "-o", pp, "--market-ids", marketIDs))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("trade %s: %v\n%s", cmd.Name(), err, out.String())
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
		if got, want := sortedRows(dropColumn(got, ignore)), sortedRows(dropColumn(want, ignore)); !bytes.Equal(got, want) {
			t.Errorf("%s differs:\n%s\n%s\nbacktest\n%s", f, cmd.Name(), got, want)
		}
		if bytes.Count(want, []byte("\n")) < 2 {
			t.Errorf("%s holds no row: the comparison shows nothing", f)
		}
	}
	return out.String(), pp
}

// Exchange starts a local exchange made with cfg for the rest of the
// test and returns it and the path of its info file (for a command's
// --exchange-info).
func Exchange(t *testing.T, cfg exchange.Config) (*exchange.Exchange, string) {
	t.Helper()
	ex, err := exchange.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ex.Serve(ctx) }()
	t.Cleanup(func() { stop(); <-served })
	info := filepath.Join(t.TempDir(), "ex.json")
	if err := ex.WriteInfo(info); err != nil {
		t.Fatal(err)
	}
	return ex, info
}

// dropColumn returns a CSV file (of plain, unquoted fields) without the
// column named name, or as it is if it has none.
func dropColumn(b []byte, name string) []byte {
	lines := bytes.Split(b, []byte("\n"))
	k := slices.Index(strings.Split(string(lines[0]), ","), name)
	if name == "" || k < 0 {
		return b
	}
	for i, l := range lines {
		if f := bytes.Split(l, []byte(",")); len(f) > k {
			lines[i] = bytes.Join(slices.Delete(f, k, k+1), []byte(","))
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

// sortedRows returns a CSV file with its rows (not its header) sorted.
func sortedRows(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) > 1 {
		slices.SortFunc(lines[1:], bytes.Compare)
	}
	return bytes.Join(lines, []byte("\n"))
}
