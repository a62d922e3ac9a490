package esa_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tape"
)

const proTar = "data/historic/pro-greyhounds-2022-03-01.tar"

// archiveBooks rebuilds the final books of every tape of the archives or
// tapes at paths.
func archiveBooks(tb testing.TB, paths ...string) map[string]string {
	tb.Helper()
	cache := book.NewMarketCache(book.Options{})
	dec := esa.NewDecoder()
	var m esa.Message
	err := tape.Walk(context.Background(), paths, func(_ context.Context, t *tape.Tape) error {
		lr, err := t.Lines()
		if err != nil {
			return err
		}
		defer lr.Close()
		for lr.Next() {
			if err := dec.Decode(lr.Bytes(), &m); err != nil {
				return err
			}
			cache.Apply(&m)
		}
		return lr.Err()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return booksOf(cache)
}

// TestClientReplayArchive serves Betfair's PRO greyhound archive (32
// markets of a day) with a connection dropped every 2,000 change messages
// and checks the client rebuilds every market's final book. Under the race
// detector it serves the bundled tapes (five markets) with a drop every 500
// changes, the same reconnects at a tenth of the work; scripts/test.sh
// replays the archive in its run without -race.
func TestClientReplayArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a whole day of 32 markets")
	}
	dropAfter := 2000
	tapes := []string{testenv.Shared(t, proTar)}
	if testenv.RaceEnabled {
		dropAfter = 500
		tapes = nil
		for _, name := range []string{"1.197931750", "1.197931751", "1.205822330.bz2", "1.164917629.bz2", "BASIC-1.132153978"} {
			tapes = append(tapes, testenv.Testdata(t, "tapes/"+name))
		}
	}
	ex, err := exchange.New(exchange.Config{Tapes: tapes, Faults: exchange.Faults{DropAfter: dropAfter, DropEvery: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ex.Serve(ctx)
	markets, changes := ex.Markets()
	end := strconv.Itoa(changes)
	cache := book.NewMarketCache(book.Options{})
	cctx, ccancel := context.WithTimeout(ctx, 120*time.Second)
	defer ccancel()
	tok := ex.NewSession()
	c, err := esa.NewClient(esa.ClientConfig{
		Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "k", WholeImages: true,
		Session:    func(context.Context) (string, error) { return tok, nil },
		Market:     &esa.MarketSubscription{SegmentationEnabled: true},
		MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		Handler: func(_ []byte, m *esa.Message) error {
			cache.Apply(m)
			if string(m.Clk) == end {
				ccancel()
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(cctx); err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	want, got := archiveBooks(t, tapes...), booksOf(cache)
	if len(want) != markets || len(got) != markets {
		t.Fatalf("%d markets rebuilt, %d in the archive, exchange has %d", len(got), len(want), markets)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("market %s: final book differs", id)
		}
	}
	st := c.Stats()
	if st.Reconnects < int64(changes/dropAfter)-1 {
		t.Errorf("%d reconnects for %d changes dropped every %d", st.Reconnects, changes, dropAfter)
	}
	t.Logf("%d markets, %d changes, stats %+v", markets, changes, st)
}

// BenchmarkServeToClientArchive is BenchmarkServeToClient over the PRO
// greyhound archive: one iteration is a whole day of 32 markets.
func BenchmarkServeToClientArchive(b *testing.B) {
	tar := testenv.Shared(b, proTar)
	ex, err := exchange.New(exchange.Config{Tapes: []string{tar}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ex.Serve(ctx)
	_, changes := ex.Markets()
	end := strconv.Itoa(changes)
	tok := ex.NewSession()
	var msgs, bytes int64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		cctx, ccancel := context.WithCancel(ctx)
		c, _ := esa.NewClient(esa.ClientConfig{
			Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "bench",
			Session: func(context.Context) (string, error) { return tok, nil },
			Market:  &esa.MarketSubscription{SegmentationEnabled: true},
			Handler: func(_ []byte, m *esa.Message) error {
				if string(m.Clk) == end {
					ccancel()
				}
				return nil
			},
		})
		if err := c.Run(cctx); err != context.Canceled {
			b.Fatal(err)
		}
		st := c.Stats()
		msgs += st.Messages
		bytes += st.Bytes
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(msgs)/sec, "msgs/s")
	b.ReportMetric(float64(bytes)/sec/1e6, "MB/s")
}
