package tradecli_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
	"github.com/tapedeck/tapedeck/tape"
	"github.com/tapedeck/tapedeck/tradecli"
)

// uploadTapes puts testdata tapes on the test S3 server (skipping the test
// without one) and returns their prefix's URL, the store options and the
// local paths.
func uploadTapes(t *testing.T, names ...string) (string, store.Options, []string) {
	t.Helper()
	src, opts := storetest.URL(t, "tapes/")
	ctx := context.Background()
	st, prefix, err := store.Open(ctx, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	var local []string
	for _, n := range names {
		p := testenv.Testdata(t, "tapes/"+n)
		local = append(local, p)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		storetest.Put(t, st, prefix+n, data)
	}
	return src, opts, local
}

// tryBacktest runs trade backtest of passive-back with args and returns its
// summary and error.
func tryBacktest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := tradecli.BacktestCommand(strategies.Builtins())
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(append([]string{"--strategy", "passive-back", "--workers", "1"}, args...))
	return stdout.String(), cmd.ExecuteContext(context.Background())
}

// trade backtest reads s3:// inputs as every command does, on the test S3
// server (skipped without it), and gets what it gets from the same tapes on
// disk.
func TestBacktestReadsS3(t *testing.T) {
	src, _, local := uploadTapes(t, "1.197931750", "1.197931751")
	want, err := tryBacktest(t, append([]string{"-o", t.TempDir()}, local...)...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tryBacktest(t, "-o", t.TempDir(), src, "--s3-endpoint", storetest.Endpoint(t), "--s3-path-style")
	if err != nil {
		t.Fatalf("backtest %s: %v", src, err)
	}
	if got != want {
		t.Errorf("over S3:\n%s\nfrom disk:\n%s", got, want)
	}
}

// A missing input fails trade backtest (exit 1) as it fails convert, after
// the markets that could be read are written (issue 13 item 4's rule).
func TestBacktestMissingInput(t *testing.T) {
	out := t.TempDir()
	_, err := tryBacktest(t, "-o", out, filepath.Join(t.TempDir(), "nope"), testenv.Testdata(t, "tapes/1.197931750"))
	if !errors.Is(err, tape.ErrUnreadable) {
		t.Fatalf("error %v, want tape.ErrUnreadable", err)
	}
	markets, err := parquet.ReadFile[tradecli.MarketRow](filepath.Join(out, "markets.parquet"))
	if err != nil || len(markets) != 1 || markets[0].MarketID != "1.197931750" {
		t.Errorf("markets written: %+v, %v; want the good input's market", markets, err)
	}
	if _, err := tryBacktest(t, "-o", t.TempDir(), "--strict", filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("--strict accepted a missing input")
	}
}

// trade serve's exchange loads s3:// tapes as it loads local ones.
func TestServeReadsS3(t *testing.T) {
	src, opts, local := uploadTapes(t, "1.197931750", "1.197931751")
	load := func(tapes []string) (int, int) {
		t.Helper()
		ex, err := exchange.New(exchange.Config{Tapes: tapes, Sources: tape.Sources{Store: opts},
			CertFile: filepath.Join(t.TempDir(), "cert.pem")})
		if err != nil {
			t.Fatalf("%v: %v", tapes, err)
		}
		m, c := ex.Markets()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ex.Serve(ctx) // closes the listeners at once
		return m, c
	}
	wm, wc := load(local)
	gm, gc := load([]string{src})
	if gm != wm || gc != wc || wm != 2 {
		t.Errorf("from S3: %d markets, %d changes; from disk %d, %d", gm, gc, wm, wc)
	}
}
