package tradecli_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
	"github.com/tapedeck/tapedeck/tradecli/tradeclitest"
)

// asTrade, set in a child's environment, makes the test binary the trade
// command: tests that signal a real process run it so, with no build.
const asTrade = "TAPEDECK_TEST_AS_TRADE"

func TestMain(m *testing.M) {
	if os.Getenv(asTrade) == "1" {
		os.Exit(cli.RunArgs(tradecli.NewCommand(strategies.Builtins()), os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// serveBetting starts a local exchange taking bets over the shared
// stream of one market, served until the test ends, and returns it, its
// info file and a client of its Betting API. Its ledger is cfg.Betting,
// or a GBP one with the defaults.
func serveBetting(t *testing.T, cfg exchange.Config) (*exchange.Exchange, string, *betting.Client) {
	t.Helper()
	cfg.Tapes = []string{testenv.Shared(t, "data/streams/1.197931750")}
	if cfg.Betting == nil {
		cfg.Betting = ledger.New(ledger.Config{})
	}
	ex, info := tradeclitest.Exchange(t, cfg)
	return ex, info, loginTo(t, ex)
}

// startTrade starts the test binary as the trade command with args: a
// real process, for tests that signal it. It returns the process, the
// channel its end comes on, and its output.
func startTrade(t *testing.T, args ...string) (*exec.Cmd, <-chan error, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asTrade+"=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, exited, &out
}

// TestLiveSIGTERM sends SIGTERM to a real trade live process while its
// orders rest unmatched on a local exchange replaying in real time: every
// one is cancelled on the exchange before the process exits, with status
// 0 and its outputs written. (The 15 s bound is the code's: stopGuard and
// engine.DefaultStopWithin; no time is measured here.)
func TestLiveSIGTERM(t *testing.T) {
	_, info, bc := serveBetting(t, exchange.Config{Speed: 1})
	out := filepath.Join(t.TempDir(), "live")
	// passive-back backs every runner at the best lay, resting in the
	// queue, as soon as the market is within a day of its start.
	cmd, exited, stderr := startTrade(t, "live", "--strategy", "passive-back", "--param", "within=86400",
		"--exchange-info", info, "--market-ids", "1.197931750", "-o", out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var resting []betting.CurrentOrder
	for len(resting) == 0 {
		select {
		case err := <-exited:
			t.Fatalf("trade live ended before any order rested: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Fatalf("no order rests on the exchange\n%s", stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		rows, err := bc.ListCurrentOrders(ctx, betting.CurrentOrdersFilter{OrderProjection: "EXECUTABLE"})
		if err != nil {
			t.Fatal(err)
		}
		resting = rows
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatalf("trade live did not exit after SIGTERM\n%s", stderr.String())
	}
	if err != nil {
		t.Fatalf("trade live after SIGTERM: %v\n%s", err, stderr.String())
	}
	left, lerr := bc.ListCurrentOrders(context.Background(), betting.CurrentOrdersFilter{OrderProjection: "EXECUTABLE"})
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(left) > 0 {
		t.Errorf("%d orders still unmatched on the exchange after the stop: %+v\n%s", len(left), left, stderr.String())
	}
	all, lerr := bc.ListCurrentOrders(context.Background(), betting.CurrentOrdersFilter{})
	if lerr != nil {
		t.Fatal(lerr)
	}
	cancelled := 0
	for _, o := range all {
		if o.SizeCancelled > 0 {
			cancelled++
		}
	}
	if cancelled < len(resting) {
		t.Errorf("%d orders cancelled on the exchange, %d were resting when SIGTERM was sent", cancelled, len(resting))
	}
	csv, rerr := os.ReadFile(filepath.Join(out, "orders.csv"))
	if rerr != nil || strings.Count(string(csv), "\n") < 1+len(resting) {
		t.Errorf("orders.csv after the stop: %v\n%s", rerr, csv)
	}
	if _, rerr := os.Stat(filepath.Join(out, "journal.jsonl")); rerr != nil {
		t.Error(rerr)
	}
	t.Logf("%d orders resting at SIGTERM, %d cancelled", len(resting), cancelled)
}

// TestLiveDryRunCommand: trade live --dry-run trades a whole market and
// sends the exchange no order request; its placements are in orders.csv,
// complete with error code DRY_RUN.
func TestLiveDryRunCommand(t *testing.T) {
	ex, info, _ := serveBetting(t, exchange.Config{Lockstep: true})
	out := filepath.Join(t.TempDir(), "dry")
	cmd := tradecli.LiveCommand(strategies.Builtins())
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"--strategy", "passive-back", "--dry-run", "--lockstep", "--exchange-info", info, "--market-ids", "1.197931750", "-o", out})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if n := ex.Stats().OrderRequests; n != 0 {
		t.Errorf("a dry run sent %d order requests", n)
	}
	csv, err := os.ReadFile(filepath.Join(out, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")[1:]
	if len(rows) == 0 {
		t.Fatal("no order: the dry run shows nothing")
	}
	for _, r := range rows {
		if !strings.Contains(r, "EXECUTION_COMPLETE") || !strings.Contains(r, "DRY_RUN") {
			t.Errorf("order row %s", r)
		}
	}
	if n := strings.Count(stderr.String(), "dry run: order request not sent"); n == 0 {
		t.Errorf("no request logged:\n%s", stderr.String())
	}
}

// TestLiveLimitUsage: a negative run-wide limit is a usage error, before
// anything is dialled.
func TestLiveLimitUsage(t *testing.T) {
	for _, flag := range []string{"--max-transactions-per-hour", "--max-instructions-per-second", "--daily-loss-limit"} {
		cmd := tradecli.LiveCommand(strategies.Builtins())
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs([]string{"--strategy", "passive-back", "-o", t.TempDir(), "--exchange-info", "none.json", flag, "-1"})
		err := cmd.Execute()
		var ue *cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), flag+" -1: want 0 (no limit) or more") {
			t.Errorf("%s -1: %v", flag, err)
		}
	}
}
