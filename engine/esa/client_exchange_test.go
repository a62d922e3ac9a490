package esa_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

var testTapes = []string{"tapes/1.197931750", "tapes/1.197931751"}

// startExchange serves the test tapes with cfg's faults until the test ends.
func startExchange(tb testing.TB, cfg exchange.Config) *exchange.Exchange {
	tb.Helper()
	for _, p := range testTapes {
		cfg.Tapes = append(cfg.Tapes, testenv.Testdata(tb, p))
	}
	ex, err := exchange.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ex.Serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return ex
}

// session is what one client run received.
type session struct {
	cache  *book.MarketCache
	deltas []string // raw market changes since the last whole image, in order
	images int      // SUB_IMAGE messages (segments) handed over
	resubs int      // RESUB_DELTA messages
	lines  int
	lastPt int64
	imaged []string // raw market changes of the last image
	stats  esa.Stats
	err    error
}

// runClient subscribes to every market of ex and reads until the clock
// says every change was received (the exchange's clock is the replay
// index), or the client stops.
func runClient(tb testing.TB, ex *exchange.Exchange, tweak func(*esa.ClientConfig)) *session {
	tb.Helper()
	_, changes := ex.Markets()
	end := strconv.Itoa(changes)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := &session{cache: book.NewMarketCache(book.Options{})}
	tok := ex.NewSession()
	cfg := esa.ClientConfig{
		Addr:        ex.Addr(),
		CAFile:      ex.CAFile(),
		AppKey:      "test-app-key",
		Session:     func(context.Context) (string, error) { return tok, nil },
		Market:      &esa.MarketSubscription{SegmentationEnabled: true, HeartbeatMs: 500, MarketDataFilter: &esa.MarketDataFilter{Fields: esa.AllMarketDataFields}},
		WholeImages: true,
		MinBackoff:  10 * time.Millisecond,
		MaxBackoff:  50 * time.Millisecond,
		Handler: func(line []byte, m *esa.Message) error {
			s.lines++
			if m.Op != esa.OpMCM {
				return nil
			}
			switch m.Ct {
			case esa.ChangeTypeSubImage:
				s.images++
				if m.SegmentType == esa.SegmentNone || m.SegmentType == esa.SegmentStart {
					s.deltas, s.imaged = s.deltas[:0], s.imaged[:0]
				}
				for i := range m.MC {
					s.imaged = append(s.imaged, string(m.MC[i].Raw))
				}
			case esa.ChangeTypeResubDelta:
				s.resubs++
			}
			s.cache.Apply(m)
			if m.Ct != esa.ChangeTypeSubImage {
				if len(m.MC) > 0 && m.Pt < s.lastPt {
					tb.Errorf("publish time went back from %d to %d", s.lastPt, m.Pt)
				}
				s.lastPt = max(s.lastPt, m.Pt)
				for i := range m.MC {
					if m.MC[i].Img {
						tb.Errorf("unexpected img in %s", line)
					}
					s.deltas = append(s.deltas, string(m.MC[i].Raw))
				}
			}
			if string(m.Clk) == end && (m.SegmentType == esa.SegmentNone || m.SegmentType == esa.SegmentEnd) {
				cancel()
			}
			return nil
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := esa.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	s.err = c.Run(ctx)
	if errors.Is(s.err, context.Canceled) {
		s.err = nil
	}
	s.stats = c.Stats()
	return s
}

// sourceBooks rebuilds the tapes' final books the way `convert books`
// does: one MarketCache over every line of the source tapes.
func sourceBooks(tb testing.TB) (map[string]string, map[string][]string) {
	tb.Helper()
	cache := book.NewMarketCache(book.Options{})
	changes := map[string][]string{}
	dec := esa.NewDecoder()
	var m esa.Message
	for _, p := range testTapes {
		b, err := os.ReadFile(testenv.Testdata(tb, p))
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if err := dec.Decode(sc.Bytes(), &m); err != nil {
				tb.Fatal(err)
			}
			cache.Apply(&m)
			for i := range m.MC {
				id := string(m.MC[i].ID)
				changes[id] = append(changes[id], string(m.MC[i].Raw))
			}
		}
	}
	return booksOf(cache), changes
}

func booksOf(c *book.MarketCache) map[string]string {
	out := map[string]string{}
	for _, m := range c.Markets() {
		out[m.ID] = string(m.AppendLightweightJSON(nil, book.JSONOptions{}))
	}
	return out
}

// checkSession checks a run rebuilt the source's final books and received,
// after its image, exactly the tapes' remaining changes, each once.
func checkSession(t *testing.T, s *session) { checkSessionFrom(t, s, true) }

// checkSessionFrom is checkSession; fromFirst says the image was taken at
// the start of the replay (speed 0), so every change after each market's
// first must arrive; otherwise (a paced replay joined late) a tail of them.
func checkSessionFrom(t *testing.T, s *session, fromFirst bool) {
	t.Helper()
	if s.err != nil {
		t.Fatalf("client: %v", s.err)
	}
	want, changes := sourceBooks(t)
	got := booksOf(s.cache)
	if len(got) != len(want) {
		t.Fatalf("rebuilt %d markets, want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("market %s: final book differs\n got %.400s\nwant %.400s", id, got[id], w)
		}
	}
	// Per market, the deltas received are the tape's changes after the first
	// (which the image holds), in order, each once.
	byMarket := map[string][]string{}
	for _, raw := range s.deltas {
		var m esa.Message
		if err := esa.NewDecoder().Decode([]byte(`{"op":"mcm","mc":[`+raw+`]}`), &m); err != nil {
			t.Fatal(err)
		}
		id := string(m.MC[0].ID)
		byMarket[id] = append(byMarket[id], raw)
	}
	for id, all := range changes {
		d := byMarket[id]
		if fromFirst && len(d) != len(all)-1 || len(d) == 0 || len(d) >= len(all) {
			t.Fatalf("market %s: %d deltas received, tape has %d changes after the first", id, len(d), len(all)-1)
		}
		tail := all[len(all)-len(d):]
		for i := range d {
			if d[i] != tail[i] {
				t.Fatalf("market %s: delta %d of %d is not the tape's change %d", id, i, len(d), len(all)-len(d)+i)
			}
		}
	}
}

func TestClientReplay(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	s := runClient(t, ex, nil)
	checkSession(t, s)
	if s.stats.Reconnects != 0 || s.images != 1 {
		t.Errorf("reconnects %d, images %d; want 0 and 1", s.stats.Reconnects, s.images)
	}
	// The tapes' first changes are full images (img:true, as flumine's
	// recorder writes them): the SUB_IMAGE carries them as recorded, so
	// image plus deltas are the tapes' changes, byte for byte.
	_, changes := sourceBooks(t)
	if len(s.imaged) != 2 || s.imaged[0] != changes["1.197931750"][0] || s.imaged[1] != changes["1.197931751"][0] {
		t.Errorf("the image is not the tapes' first changes as recorded")
	}
	t.Logf("%d lines, %d deltas, stats %+v", s.lines, len(s.deltas), s.stats)
}

// TestClientReplaySpeed replays at 300 times real time (the tapes span about
// 5 minutes): the same image and changes, paced, with heartbeats in the gaps
// the client asked for (500 ms, i.e. 150 s of tape time).
func TestClientReplaySpeed(t *testing.T) {
	ex := startExchange(t, exchange.Config{Speed: 300})
	s := runClient(t, ex, nil)
	checkSessionFrom(t, s, false)
	if s.stats.Reconnects != 0 {
		t.Errorf("reconnects %d", s.stats.Reconnects)
	}
	t.Logf("stats %+v", s.stats)
}

// TestClientReplaySpeedDrops: paced, with drops; a resubscription catches
// up with every change that fell due while disconnected, in its RESUB_DELTA.
func TestClientReplaySpeedDrops(t *testing.T) {
	ex := startExchange(t, exchange.Config{Speed: 300, Faults: exchange.Faults{DropAfter: 60, DropEvery: true}})
	s := runClient(t, ex, func(c *esa.ClientConfig) { c.MinBackoff, c.MaxBackoff = 50*time.Millisecond, 100*time.Millisecond })
	checkSessionFrom(t, s, false)
	if s.stats.Reconnects < 2 || s.resubs != int(s.stats.Reconnects) {
		t.Errorf("reconnects %d, RESUB_DELTAs %d", s.stats.Reconnects, s.resubs)
	}
}

func TestClientDropMidImage(t *testing.T) {
	ref := runClient(t, startExchange(t, exchange.Config{SegmentBytes: 1}), nil)
	// The image is two segments (one market each): the connection drops
	// after SEG_START, which WholeImages never hands over.
	ex := startExchange(t, exchange.Config{SegmentBytes: 1, Faults: exchange.Faults{DropAfter: 1}})
	s := runClient(t, ex, nil)
	checkSession(t, s)
	if s.stats.Reconnects != 1 {
		t.Errorf("reconnects %d, want 1", s.stats.Reconnects)
	}
	if s.images != 2 {
		t.Errorf("%d image segments handed over, want the 2 of one whole image", s.images)
	}
	if strings.Join(s.deltas, "\n") != strings.Join(ref.deltas, "\n") {
		t.Errorf("deltas differ from a run without the fault (%d vs %d)", len(s.deltas), len(ref.deltas))
	}
}

func TestClientDropMidStream(t *testing.T) {
	ref := runClient(t, startExchange(t, exchange.Config{}), nil)
	ex := startExchange(t, exchange.Config{Faults: exchange.Faults{DropAfter: 40, DropEvery: true}})
	var downs []error
	s := runClient(t, ex, func(c *esa.ClientConfig) { c.OnDisconnect = func(err error) { downs = append(downs, err) } })
	checkSession(t, s)
	if s.stats.Reconnects < 3 || s.resubs != int(s.stats.Reconnects) {
		t.Errorf("reconnects %d, RESUB_DELTAs %d; want several, one per reconnect", s.stats.Reconnects, s.resubs)
	}
	// Each connection's end is told once: the dropped ones with the read
	// error, the last when the run is stopped.
	if len(downs) != int(s.stats.Reconnects)+1 {
		t.Errorf("OnDisconnect called %d times for %d connections", len(downs), s.stats.Reconnects+1)
	}
	for i, err := range downs {
		if err == nil {
			t.Errorf("disconnect %d without a reason", i)
		}
	}
	if s.images != 1 {
		t.Errorf("%d images, want 1 (resubscriptions resume from the clock)", s.images)
	}
	if strings.Join(s.deltas, "\n") != strings.Join(ref.deltas, "\n") {
		t.Errorf("deltas differ from a run without the fault (%d vs %d)", len(s.deltas), len(ref.deltas))
	}
}

func TestClientStatus503(t *testing.T) {
	ex := startExchange(t, exchange.Config{Faults: exchange.Faults{Status503After: 10}})
	s := runClient(t, ex, nil)
	checkSession(t, s)
	if s.stats.Status503 != 1 || s.stats.Reconnects != 0 {
		t.Errorf("503s %d, reconnects %d; want 1 and 0", s.stats.Status503, s.stats.Reconnects)
	}
}

func TestClientWatchdog(t *testing.T) {
	// heartbeatMs 500: the watchdog fires after 1 s of silence; the stall
	// lasts 3 s.
	ex := startExchange(t, exchange.Config{Faults: exchange.Faults{StallAfter: 20, StallFor: 3 * time.Second}})
	s := runClient(t, ex, nil)
	checkSession(t, s)
	if s.stats.Reconnects != 1 || s.resubs != 1 {
		t.Errorf("reconnects %d, RESUB_DELTAs %d; want 1 and 1", s.stats.Reconnects, s.resubs)
	}
}

func TestClientRefusedLogin(t *testing.T) {
	ex := startExchange(t, exchange.Config{Faults: exchange.Faults{RefuseLogin: true}})
	relogin := func(ctx context.Context) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsFor(t, ex.CAFile())}}
		form := url.Values{"username": {"u"}, "password": {"p"}}
		req, _ := http.NewRequestWithContext(ctx, "POST", ex.Info().Identity+"/api/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Application", "test-app-key")
		req.Header.Set("Accept", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if !strings.Contains(b.String(), `"status":"SUCCESS"`) {
			return errors.New("login refused: " + strings.TrimSpace(b.String()))
		}
		return nil
	}
	for _, tc := range []struct {
		name    string
		relogin func(context.Context) error
		want    string
	}{
		{"no relogin", nil, "INVALID_SESSION_INFORMATION"},
		{"relogin refused", relogin, "INVALID_USERNAME_OR_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runClient(t, ex, func(c *esa.ClientConfig) { c.Relogin = tc.relogin })
			var st *esa.StatusError
			if !errors.As(s.err, &st) || st.Code != "INVALID_SESSION_INFORMATION" || !strings.Contains(s.err.Error(), tc.want) {
				t.Fatalf("err = %v; want a StatusError INVALID_SESSION_INFORMATION mentioning %s", s.err, tc.want)
			}
		})
	}
}

func TestClientFatalStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  exchange.Config
		code string
	}{
		{"subscription limit", exchange.Config{Faults: exchange.Faults{SubscriptionLimit: true}}, "SUBSCRIPTION_LIMIT_EXCEEDED"},
		{"app key", exchange.Config{AppKey: "another-key"}, "INVALID_APP_KEY"},
		{"market limit", exchange.Config{MarketLimit: 1}, "SUBSCRIPTION_LIMIT_EXCEEDED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runClient(t, startExchange(t, tc.cfg), nil)
			var st *esa.StatusError
			if !errors.As(s.err, &st) || st.Code != tc.code || !st.Fatal() {
				t.Fatalf("err = %v; want a fatal StatusError %s", s.err, tc.code)
			}
			if s.stats.Reconnects != 0 {
				t.Errorf("%d reconnects after a fatal status", s.stats.Reconnects)
			}
		})
	}
}

// TestClientUntrustedCertificate: without the exchange's certificate as CA
// file, the handshake fails verification and Run stops at once with a hint.
func TestClientUntrustedCertificate(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	s := runClient(t, ex, func(c *esa.ClientConfig) { c.CAFile = "" })
	var ve *tls.CertificateVerificationError
	if !errors.As(s.err, &ve) || !strings.Contains(s.err.Error(), "CA file") || s.stats.Reconnects != 0 {
		t.Fatalf("err = %v, reconnects %d", s.err, s.stats.Reconnects)
	}
}

// TestClientInvalidClock: clocks the exchange cannot resume from are
// answered INVALID_CLOCK; the client forgets them and subscribes afresh.
func TestClientInvalidClock(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	s := runClient(t, ex, func(c *esa.ClientConfig) {
		c.Market.InitialClk, c.Market.Clk = "AAAA", "BBBB"
	})
	checkSession(t, s)
	if s.stats.Reconnects != 1 || s.images != 1 {
		t.Errorf("reconnects %d, images %d; want 1 and 1", s.stats.Reconnects, s.images)
	}
}

// TestClientRelogin: a session the exchange does not know is refused; the
// client logs in again (here: asks the exchange for a new token) and
// carries on.
func TestClientRelogin(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	var mu sync.Mutex
	tok := "expired"
	s := runClient(t, ex, func(c *esa.ClientConfig) {
		c.Session = func(context.Context) (string, error) { mu.Lock(); defer mu.Unlock(); return tok, nil }
		c.Relogin = func(context.Context) error { mu.Lock(); defer mu.Unlock(); tok = ex.NewSession(); return nil }
	})
	checkSession(t, s)
	if s.stats.Relogins != 1 {
		t.Errorf("relogins %d, want 1", s.stats.Relogins)
	}
}

// TestClientOrderSubscription: an order subscription gets its (empty)
// image and then heartbeats, which keep the connection up.
func TestClientOrderSubscription(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	tok := ex.NewSession()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var images, beats int
	c, err := esa.NewClient(esa.ClientConfig{
		Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "k",
		Session:  func(context.Context) (string, error) { return tok, nil },
		Order:    &esa.OrderSubscription{HeartbeatMs: 500, SegmentationEnabled: true},
		Watchdog: 5 * time.Second,
		Handler: func(_ []byte, m *esa.Message) error {
			if m.Op == esa.OpOCM && m.Ct == esa.ChangeTypeSubImage {
				images++
			}
			if m.Op == esa.OpOCM && m.Ct == esa.ChangeTypeHeartbeat {
				beats++
			}
			if m.Op == esa.OpMCM {
				t.Errorf("market change on an order-only connection")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	ini, clk := c.OrderClocks()
	if images != 1 || beats == 0 || c.Stats().Reconnects != 0 || ini == "" || clk == "" {
		t.Errorf("images %d, heartbeats %d, reconnects %d, clocks %q %q", images, beats, c.Stats().Reconnects, ini, clk)
	}
}

// TestClientConnectionLimit: with one connection allowed and taken, the
// client is refused MAX_CONNECTION_LIMIT_EXCEEDED, backs off and retries,
// and gets through once the other connection is gone.
func TestClientConnectionLimit(t *testing.T) {
	ex := startExchange(t, exchange.Config{MaxConnections: 1})
	tok := ex.NewSession()
	bctx, bcancel := context.WithCancel(context.Background())
	defer bcancel()
	subscribed := make(chan struct{})
	bDone := make(chan error, 1)
	b, err := esa.NewClient(esa.ClientConfig{Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "k",
		Session: func(context.Context) (string, error) { return tok, nil },
		Order:   &esa.OrderSubscription{},
		Handler: func(_ []byte, m *esa.Message) error {
			if m.Op == esa.OpOCM && m.Ct == esa.ChangeTypeSubImage {
				close(subscribed)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { bDone <- b.Run(bctx) }()
	<-subscribed
	var refused bool
	var logs bytes.Buffer
	s := runClient(t, ex, func(c *esa.ClientConfig) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		calls := 0
		c.Session = func(context.Context) (string, error) {
			if calls++; calls == 2 { // the first connection was refused
				refused = true
				bcancel()
				<-bDone
			}
			return tok, nil
		}
	})
	checkSession(t, s)
	if !refused || s.stats.Reconnects < 1 || !strings.Contains(logs.String(), "MAX_CONNECTION_LIMIT_EXCEEDED") {
		t.Errorf("refused %v, reconnects %d, log:\n%s", refused, s.stats.Reconnects, logs.String())
	}
}

// TestClientConnectionLimitGivesUp: while the account's connections stay
// taken, the client stops after LimitTries refusals in a row with the
// MAX_CONNECTION_LIMIT_EXCEEDED status, instead of retrying until the
// recording's end with a market never recorded.
func TestClientConnectionLimitGivesUp(t *testing.T) {
	ex := startExchange(t, exchange.Config{MaxConnections: 1})
	tok := ex.NewSession()
	session := func(context.Context) (string, error) { return tok, nil }
	hold, cancelHold := context.WithCancel(context.Background())
	defer cancelHold()
	subscribed := make(chan struct{})
	holder, err := esa.NewClient(esa.ClientConfig{Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "k", Session: session,
		Order: &esa.OrderSubscription{},
		Handler: func(_ []byte, m *esa.Message) error {
			if m.Op == esa.OpOCM && m.Ct == esa.ChangeTypeSubImage {
				close(subscribed)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan error, 1)
	go func() { held <- holder.Run(hold) }()
	<-subscribed

	c, err := esa.NewClient(esa.ClientConfig{Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "k", Session: session,
		Market: &esa.MarketSubscription{}, LimitTries: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Handler: func([]byte, *esa.Message) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = c.Run(ctx)
	var st *esa.StatusError
	if !errors.As(err, &st) || st.Code != "MAX_CONNECTION_LIMIT_EXCEEDED" {
		t.Fatalf("Run = %v, want the MAX_CONNECTION_LIMIT_EXCEEDED status", err)
	}
	if n := c.Stats().Reconnects; n != 2 {
		t.Errorf("%d reconnects, want 2 (3 tries)", n)
	}
	cancelHold()
	<-held
}

// TestClientHandlerError: a handler's error stops the client at once (a
// recorder that cannot write must not keep reading).
func TestClientHandlerError(t *testing.T) {
	ex := startExchange(t, exchange.Config{})
	boom := errors.New("disk full")
	n := 0
	s := runClient(t, ex, func(c *esa.ClientConfig) {
		inner := c.Handler
		c.Handler = func(line []byte, m *esa.Message) error {
			if n++; n == 10 {
				return boom
			}
			return inner(line, m)
		}
	})
	if !errors.Is(s.err, boom) || s.stats.Reconnects != 0 || n != 10 {
		t.Fatalf("err %v, reconnects %d, lines %d", s.err, s.stats.Reconnects, n)
	}
}
