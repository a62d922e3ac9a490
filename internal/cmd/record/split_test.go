package record

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
)

// TestFilterSplitOverConnections: a filter matching more markets than one
// subscription may hold (the exchange's --market-limit 2 standing for
// Betfair's 200) is listed with listMarketCatalogue and recorded by market
// id over several connections, every market whole.
func TestFilterSplitOverConnections(t *testing.T) {
	tapes := []string{
		testenv.Shared(t, "data/streams/1.197931750"),
		testenv.Shared(t, "data/streams/1.197931751"),
		testenv.Testdata(t, "tapes/BASIC-1.132153978"),
	}
	sources := map[string][]string{}
	for _, p := range tapes {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range marketChanges(t, b) {
			sources[k] = v
		}
	}
	if len(sources) != 3 {
		t.Fatalf("%d source markets, want 3", len(sources))
	}
	for _, tc := range []struct {
		name    string
		args    []string
		refused bool // the exchange refuses one subscription of all 3
	}{
		{"split in twos", []string{"--markets-per-connection", "2"}, false},
		{"one subscription", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ex, err := exchange.New(exchange.Config{Tapes: tapes, Catalogues: []string{testenv.Testdata(t, "catalogues")},
				MarketLimit: 2, CertFile: filepath.Join(dir, "cert.pem")})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { ex.Serve(ctx); close(done) }()
			t.Cleanup(func() { cancel(); <-done })
			info := filepath.Join(dir, "info.json")
			if err := ex.WriteInfo(info); err != nil {
				t.Fatal(err)
			}
			dest, spool := t.TempDir(), t.TempDir()
			st, _ := store.NewDir(dest)
			err = record(t, st, "", spool, len(sources), append([]string{"--exchange-info", info, "--spool", spool, "--dest", dest,
				"--betting-types", "ODDS", "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error"}, tc.args...)...)
			if tc.refused {
				if err == nil {
					t.Fatal("one subscription of 3 markets was not refused")
				}
				return
			}
			if err != nil {
				t.Fatalf("record run: %v", err)
			}
			checkRecorded(t, st, "", sources)
			// ceil(3/2) connections, none refused and reconnected.
			if n := ex.Stats().Connections; n != 2 {
				t.Errorf("%d stream connections, want 2", n)
			}
		})
	}
}
