package feed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/feed"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// startExchange serves two real market tapes (1.197931750, 1.197931751)
// on loopback until the test ends.
func startExchange(t *testing.T, cfg exchange.Config) *exchange.Exchange {
	t.Helper()
	for _, p := range []string{"tapes/1.197931750", "tapes/1.197931751"} {
		cfg.Tapes = append(cfg.Tapes, testenv.Testdata(t, p))
	}
	ex, err := exchange.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ex
}

// config returns a feed config for ex whose handler collects the market
// ids that sent changes; stopWhen, if set, ends ctx once those have come.
func config(ex *exchange.Exchange, seen *sync.Map) feed.Config {
	tok := ex.NewSession()
	return feed.Config{
		Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "k",
		Login:         func(context.Context) error { return nil },
		Session:       func(context.Context) (string, error) { return tok, nil },
		PerConnection: 200,
		MinBackoff:    time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Handler: func(_ []byte, m *esa.Message) error {
			for _, mc := range m.MC {
				seen.Store(string(mc.ID), true)
			}
			return nil
		},
	}
}

// runUntil runs f until every market in want has sent a change (or 60 s).
func runUntil(t *testing.T, f *feed.Feed, seen *sync.Map, want ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	for {
		select {
		case err := <-errc:
			return err
		case <-time.After(20 * time.Millisecond):
		}
		all := true
		for _, id := range want {
			_, ok := seen.Load(id)
			all = all && ok
		}
		if all {
			cancel()
			return <-errc
		}
	}
}

// TestFeedSplitsMarkets: market ids are split over connections of at most
// PerConnection markets, and each market's changes arrive.
func TestFeedSplitsMarkets(t *testing.T) {
	ex := startExchange(t, exchange.Config{MarketLimit: 1})
	var seen sync.Map
	cfg := config(ex, &seen)
	cfg.MarketIDs, cfg.PerConnection = []string{"1.197931750", "1.197931751"}, 1
	f, err := feed.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := runUntil(t, f, &seen, "1.197931750", "1.197931751"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := ex.Stats().Connections; n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// TestFeedConnectionLimit: when the exchange keeps refusing a connection
// for the account's limit, Run stops with a ConnectionLimitError saying
// how many markets per connection fit in the connections it did take.
func TestFeedConnectionLimit(t *testing.T) {
	ex := startExchange(t, exchange.Config{MaxConnections: 1})
	var seen sync.Map
	cfg := config(ex, &seen)
	cfg.MarketIDs, cfg.PerConnection, cfg.LimitTries = []string{"1.197931750", "1.197931751"}, 1, 3
	f, err := feed.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = f.Run(ctx)
	var cl *feed.ConnectionLimitError
	if !errors.As(err, &cl) {
		t.Fatalf("Run = %v, want a ConnectionLimitError", err)
	}
	if cl.Markets != 2 || cl.Connections != 2 || cl.Accepted != 1 || cl.PerConnection != 2 || cl.Err.Code != "MAX_CONNECTION_LIMIT_EXCEEDED" {
		t.Errorf("error %+v, want 2 markets, 2 connections, 1 accepted, 2 per connection", cl)
	}
}

// TestFeedUnrecorded: a market subscribed by id that never sends a change
// is named by Unrecorded and by Run's error at the end.
func TestFeedUnrecorded(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	var seen sync.Map
	cfg := config(ex, &seen)
	cfg.MarketIDs = []string{"1.197931750", "1.999999999"}
	f, err := feed.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = runUntil(t, f, &seen, "1.197931750")
	var ue *feed.UnrecordedError
	if !errors.As(err, &ue) || !slices.Equal(ue.Markets, []string{"1.999999999"}) {
		t.Fatalf("Run = %v, want 1.999999999 reported unrecorded", err)
	}
	if got := f.Unrecorded(); !slices.Equal(got, []string{"1.999999999"}) {
		t.Errorf("Unrecorded = %v", got)
	}
}

// TestFeedLoginRetried: a login that fails for the network is retried with
// back-off; a refused one stops Run at once.
func TestFeedLoginRetried(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	var seen sync.Map
	cfg := config(ex, &seen)
	var calls atomic.Int32
	cfg.Login = func(context.Context) error {
		if calls.Add(1) <= 3 {
			return fmt.Errorf("betting: Post \"https://identitysso.betfair.com/api/login\": dial tcp: lookup identitysso.betfair.com: i/o timeout")
		}
		return nil
	}
	f, err := feed.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := runUntil(t, f, &seen, "1.197931750", "1.197931751"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("%d logins, want 4 (3 failed, then one that worked)", n)
	}

	calls.Store(0)
	refused := &betting.LoginError{Endpoint: "https://127.0.0.1/api/login", Status: "INVALID_USERNAME_OR_PASSWORD"}
	cfg.Login = func(context.Context) error { calls.Add(1); return refused }
	if f, err = feed.New(cfg); err != nil {
		t.Fatal(err)
	}
	if err := f.Run(context.Background()); !errors.Is(err, refused) {
		t.Errorf("Run = %v, want the refused login", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("a refused login was tried %d times", n)
	}
}
