package tradecli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
	"github.com/tapedeck/tapedeck/tradecli/tradeclitest"
)

// tableLines reads a results CSV file as sorted lines of its rows, without
// the queue_ahead_at_place column (a live run does not know the queue) and
// keeping only the rows whose first field (market_id) keep accepts.
func tableLines(t *testing.T, path string, keep func(market string) bool) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %d rows, %v", path, len(rows), err)
	}
	drop := slices.Index(rows[0], "queue_ahead_at_place")
	var lines []string
	for _, r := range rows[1:] {
		if !keep(r[0]) {
			continue
		}
		if drop >= 0 {
			r = slices.Delete(r, drop, drop+1)
		}
		lines = append(lines, strings.Join(r, ","))
	}
	slices.Sort(lines)
	return lines
}

// TestLiveTablesAsMarketsFinish (issue 9: tables written as orders
// complete, kept across a crash): a real trade live process trades two
// April races and an October race replayed one after the other by a local
// exchange in lockstep, which stalls in the October race. While the run
// goes on, orders.csv and markets.csv already hold the April races, row
// for row the backtest's, and no Parquet file exists yet. The process is
// then killed with SIGKILL and started again on the same directory: the
// April rows are kept (not written twice), the October race is finished by
// the new run (adopting the first run's orders), and the final tables,
// Parquet and CSV, equal trade backtest's over the three tapes and the
// exchange's ledger.
func TestLiveTablesAsMarketsFinish(t *testing.T) {
	april := []string{"1.197931750", "1.197931751"}
	markets := append(slices.Clone(april), "1.205822330")
	tapes := []string{testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.197931751"), testenv.Testdata(t, "tapes/1.205822330.bz2")}
	bt := filepath.Join(t.TempDir(), "backtest")
	backtest(t, append([]string{"--strategy", "passive-back", "--workers", "1", "-o", bt}, tapes...)...)
	inApril := func(m string) bool { return slices.Contains(april, m) }
	all := func(string) bool { return true }

	// The April races are the first 332 changes (they close together);
	// the October race's 5,654 follow. passive-back backs its runners at
	// the October race's change 4,013 (the run's 4,345th) and they rest:
	// the restarted run adopts them rather than placing anew (a run that
	// places after a restart places later than the backtest would).
	const stallAt = 4400
	ex, info := tradeclitest.Exchange(t, exchange.Config{Tapes: tapes, Betting: ledger.New(ledger.Config{}), Lockstep: true,
		Faults: exchange.Faults{StallAfter: stallAt, StallFor: 10 * time.Minute}})
	dir := t.TempDir()
	cmd, exited, stderr := startTrade(t, "live", "--lockstep", "--strategy", "passive-back", "--exchange-info", info,
		"--market-ids", strings.Join(markets, ","), "-o", dir)
	// At the stall every request of the changes before it has reached the
	// exchange (lockstep waits for them): the orders placed so far in the
	// October race are the exchange's to hand to the restarted run.
	waitUntil(t, cmd, exited, stderr, "the stall, with the April races in markets.csv", func() bool {
		return ex.Stats().Changes >= stallAt && len(readLines(filepath.Join(dir, "markets.csv"))) >= 1+len(april)
	})
	if ex.Stats().Changes > stallAt {
		t.Fatalf("the exchange served %d changes, past its stall at %d", ex.Stats().Changes, stallAt)
	}
	for _, f := range []string{"orders.csv", "markets.csv"} {
		got, want := tableLines(t, filepath.Join(dir, f), all), tableLines(t, filepath.Join(bt, f), inApril)
		if !slices.Equal(got, want) {
			t.Errorf("%s while the run goes on:\n%s\nbacktest's April rows:\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(want) == 0 {
			t.Errorf("the backtest has no April row in %s: the comparison shows nothing", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "orders.parquet")); err == nil {
		t.Error("orders.parquet exists while the run goes on")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited

	out := runLive(t, info, dir, markets, "--strategy", "passive-back")
	for _, f := range []string{"orders.csv", "markets.csv"} {
		got, want := tableLines(t, filepath.Join(dir, f), all), tableLines(t, filepath.Join(bt, f), all)
		if !slices.Equal(got, want) {
			t.Errorf("%s after the restart:\n%s\nbacktest:\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// The Parquet files, read back, against the backtest's and the
	// exchange's own ledger.
	sameParquet(t, dir, bt, all)
	if orders := sameAsLedger(t, dir, ex, markets); len(orders) != len(tableLines(t, filepath.Join(bt, "orders.csv"), all)) {
		t.Errorf("orders.parquet holds %d orders, the backtest %d", len(orders), len(tableLines(t, filepath.Join(bt, "orders.csv"), all)))
	}
	if !strings.Contains(out, "earlier runs    2 markets") {
		t.Errorf("the summary does not say the April races were kept:\n%s", out)
	}
}

// waitUntil polls cond until it holds. It fails t, with the process's
// output, if the process started with startTrade exits first or cond does
// not hold within two minutes (a bound on a hang, not a timing check).
func waitUntil(t *testing.T, cmd *exec.Cmd, exited <-chan error, out *bytes.Buffer, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("%s ended before %s: %v\n%s", cmd.Args[1], what, err, out.String())
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Fatalf("never reached %s\n%s", what, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readLines returns a file's complete lines, none when it does not exist.
func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.SplitAfter(string(b), "\n")[:strings.Count(string(b), "\n")]
}

// TestPaperTablesAsMarketsFinish: trade paper writes its tables the same
// way. While the exchange stalls in the October race, the April races'
// rows are on disk, equal to the backtest's; SIGTERM then ends the run
// (exit 0) and the final files, Parquet included, hold them and the
// October race as it stood at the stop.
func TestPaperTablesAsMarketsFinish(t *testing.T) {
	april := []string{"1.197931750", "1.197931751"}
	tapes := []string{testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.197931751"), testenv.Testdata(t, "tapes/1.205822330.bz2")}
	bt := filepath.Join(t.TempDir(), "backtest")
	backtest(t, append([]string{"--strategy", "passive-back", "--workers", "1", "-o", bt}, tapes...)...)
	inApril := func(m string) bool { return slices.Contains(april, m) }
	_, info := tradeclitest.Exchange(t, exchange.Config{Tapes: tapes, Faults: exchange.Faults{StallAfter: 400, StallFor: 10 * time.Minute}})
	dir := t.TempDir()
	cmd, exited, stderr := startTrade(t, "paper", "--strategy", "passive-back", "--exchange-info", info,
		"--market-ids", strings.Join(append(slices.Clone(april), "1.205822330"), ","), "-o", dir)
	waitUntil(t, cmd, exited, stderr, "the April races in markets.csv", func() bool {
		return len(readLines(filepath.Join(dir, "markets.csv"))) >= 1+len(april)
	})
	for _, f := range []string{"orders.csv", "markets.csv"} {
		got, want := tableLines(t, filepath.Join(dir, f), inApril), tableLines(t, filepath.Join(bt, f), inApril)
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s while the run goes on:\n%s\nbacktest's April rows:\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("trade paper after SIGTERM: %v\n%s", err, stderr.String())
	}
	for _, f := range []string{"orders.csv", "markets.csv"} {
		got, want := tableLines(t, filepath.Join(dir, f), inApril), tableLines(t, filepath.Join(bt, f), inApril)
		if !slices.Equal(got, want) {
			t.Errorf("final %s's April rows:\n%s\nbacktest's:\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if got := tableLines(t, filepath.Join(dir, "markets.csv"), func(m string) bool { return m == "1.205822330" }); len(got) != 1 || !strings.Contains(got[0], ",OPEN,") {
		t.Errorf("the October race at the stop: %q; want one OPEN row", got)
	}
	sameParquet(t, dir, bt, inApril)
}

// sameParquet fails t unless dir's orders.parquet and markets.parquet,
// read back, hold the rows of the backtest's in bt for the markets keep
// accepts, and no others of those markets (queue_ahead_at_place aside: a
// live or paper run does not know the queue).
func sameParquet(t *testing.T, dir, bt string, keep func(market string) bool) {
	t.Helper()
	lines := func(path string) []string {
		var l []string
		if strings.HasSuffix(path, "orders.parquet") {
			rows, err := parquet.ReadFile[tradecli.OrderRow](path)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				r.QueueAheadAtPlace = 0
				if keep(r.MarketID) {
					l = append(l, fmt.Sprintf("%+v", r))
				}
			}
		} else {
			rows, err := parquet.ReadFile[tradecli.MarketRow](path)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if keep(r.MarketID) {
					l = append(l, fmt.Sprintf("%+v", r))
				}
			}
		}
		slices.Sort(l)
		return l
	}
	for _, f := range []string{"orders.parquet", "markets.parquet"} {
		got, want := lines(filepath.Join(dir, f)), lines(filepath.Join(bt, f))
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s read back:\n%s\nbacktest's:\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
