// Package feed keeps the Exchange Stream connections of one market filter
// alive, for whoever consumes the stream: the recorder today, live trading
// next. It logs in (retrying a network failure with back-off, never a
// refused login), splits the markets over connections of at most
// PerConnection markets each (Betfair refuses a subscription of more than
// 200), lists the filter again now and then and subscribes new markets on
// new connections, lets each connection reconnect on its own (engine/esa),
// and fans their errors in: the first that retrying cannot help stops them
// all. It also knows which of the markets it subscribed to never sent a
// change.
package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/backoff"
)

// Config configures a Feed. Addr, AppKey, Login, Session, Handler and
// PerConnection are required.
type Config struct {
	// Addr is the stream endpoint (host:port); CAFile a PEM certificate to
	// trust besides the system's; AppKey the application key.
	Addr, CAFile, AppKey string
	// Login logs in. Run calls it first, retrying with back-off until ctx
	// ends unless the login was refused (a *betting.LoginError) or the
	// server's certificate does not verify; connections call it again
	// when the stream rejects the session.
	Login func(ctx context.Context) error
	// Session returns the current session token.
	Session func(ctx context.Context) (string, error)

	// Subscription is every connection's market subscription: the filter,
	// data filter, heartbeat and conflation. When markets are split over
	// connections, each gets its share as MarketFilter.MarketIDs and keeps
	// the rest of the filter, so the stream applies it too.
	Subscription esa.MarketSubscription
	// MarketIDs, when set, are the markets to subscribe to, split in
	// groups of PerConnection.
	MarketIDs []string
	// List, when set and MarketIDs is not, lists the markets the filter
	// matches now (listMarketCatalogue). More than PerConnection of them
	// are split over connections and listed again every Relist (0: never).
	// When List is nil or fails, one connection subscribes by the filter.
	List   func(ctx context.Context) ([]string, error)
	Relist time.Duration
	// ListIsExact says that List returns exactly the markets the stream
	// will send (no stream-only filter such as race types narrows them),
	// so that a listed market that never sends a change is reported.
	ListIsExact   bool
	PerConnection int
	// Order, if set, is subscribed on the first connection.
	Order *esa.OrderSubscription

	// Handler receives every line of every connection, as in
	// esa.ClientConfig; it is called from one goroutine per connection.
	Handler     func(line []byte, m *esa.Message) error
	WholeImages bool

	// MinBackoff and MaxBackoff bound the login's retries and each
	// connection's reconnects (defaults 500 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// LimitTries is esa.ClientConfig.LimitTries.
	LimitTries int
	// Logger receives connection events; never a secret.
	Logger *slog.Logger
}

// Feed is a running set of stream connections. Create it with New, start
// it with Run (once).
type Feed struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	clients   []*esa.Client
	delivered []bool          // per client: a change arrived on it
	known     map[string]bool // markets given or listed so far, for re-listing
	selected  map[string]bool // those of them a change is expected from
	seen      map[string]bool // markets that sent a change
	markets   int             // markets split over connections, for advice
}

// New checks cfg and returns a feed ready to Run.
func New(cfg Config) (*Feed, error) {
	if cfg.Addr == "" || cfg.AppKey == "" || cfg.Login == nil || cfg.Session == nil || cfg.Handler == nil {
		return nil, errors.New("feed: needs Addr, AppKey, Login, Session and Handler")
	}
	if cfg.PerConnection <= 0 {
		return nil, errors.New("feed: PerConnection must be positive")
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	f := &Feed{cfg: cfg, log: cfg.Logger, known: map[string]bool{}, selected: map[string]bool{}, seen: map[string]bool{}}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// Reconnects returns the connections made after each one's first.
func (f *Feed) Reconnects() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int64
	for _, c := range f.clients {
		n += c.Stats().Reconnects
	}
	return n
}

// Unrecorded returns, sorted, the markets subscribed by id (given, or
// listed with ListIsExact) that have sent no change so far.
func (f *Feed) Unrecorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.selected {
		if !f.seen[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// UnrecordedError is Run's error when it stopped with markets it
// subscribed to that never sent a change.
type UnrecordedError struct{ Markets []string }

// Error names the markets (the first ten).
func (e *UnrecordedError) Error() string {
	ids := e.Markets
	more := ""
	if len(ids) > 10 {
		ids, more = ids[:10], fmt.Sprintf(" and %d more", len(e.Markets)-10)
	}
	return fmt.Sprintf("feed: %d selected markets never sent a change: %s%s", len(e.Markets), strings.Join(ids, ", "), more)
}

// ConnectionLimitError is Run's error when the exchange kept refusing a
// connection for the account's connection limit: the markets must go over
// fewer connections.
type ConnectionLimitError struct {
	Err         *esa.StatusError
	Markets     int // markets split over connections (0: by filter only)
	Connections int // connections the split asked for
	Accepted    int // connections the exchange took
	// PerConnection is the markets per connection that fits the split in
	// the accepted connections; 0 when nothing was accepted.
	PerConnection int
}

// Error says what was refused and what to use instead.
func (e *ConnectionLimitError) Error() string {
	s := fmt.Sprintf("feed: the exchange refused connection %d of %d (%s: Betfair allows 10 stream connections per app key)", e.Accepted+1, e.Connections, e.Err.Code)
	if e.PerConnection > 0 {
		s += fmt.Sprintf("; %d markets fit in the %d connections it took with %d markets per connection", e.Markets, e.Accepted, e.PerConnection)
	}
	return s
}

// Unwrap returns the stream's status.
func (e *ConnectionLimitError) Unwrap() error { return e.Err }

// loginFinal reports a login error retrying cannot help: refused, or a
// server certificate that does not verify.
func loginFinal(err error) bool {
	var le *betting.LoginError
	return errors.As(err, &le) || esa.IsCertError(err)
}

// login logs in, retrying what may be a network blip with back-off until
// ctx ends: a recorder started by cron at 06:00 must not lose the day to
// a minute of DNS trouble.
func (f *Feed) login(ctx context.Context) error {
	bo := backoff.Policy{Min: f.cfg.MinBackoff, Max: f.cfg.MaxBackoff}
	for try := 0; ; try++ {
		err := f.cfg.Login(ctx)
		if err == nil || ctx.Err() != nil || loginFinal(err) {
			return err
		}
		d := bo.Delay(try)
		f.log.Warn("login failed; retrying", "err", err, "attempt", try+1, "in", d)
		if err := backoff.Wait(ctx, d); err != nil {
			return err
		}
	}
}

// split returns ids in groups of PerConnection.
func (f *Feed) split(ids []string) [][]string {
	var out [][]string
	for len(ids) > 0 {
		n := min(len(ids), f.cfg.PerConnection)
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	return out
}

// subscription returns the template subscription for ids (nil: by the
// filter alone).
func (f *Feed) subscription(ids []string) *esa.MarketSubscription {
	s := f.cfg.Subscription
	if s.MarketFilter != nil {
		mf := *s.MarketFilter
		s.MarketFilter = &mf
	} else {
		s.MarketFilter = &esa.MarketFilter{}
	}
	s.MarketFilter.MarketIDs = ids
	return &s
}

// addClient makes the client of connection i for sub. f.mu is held.
func (f *Feed) addClient(sub *esa.MarketSubscription) (*esa.Client, error) {
	i := len(f.clients)
	cc := esa.ClientConfig{
		Addr: f.cfg.Addr, CAFile: f.cfg.CAFile, AppKey: f.cfg.AppKey,
		Session: f.cfg.Session, Relogin: f.cfg.Login,
		Market: sub, WholeImages: f.cfg.WholeImages, Logger: f.log.With("connection", i),
		MinBackoff: f.cfg.MinBackoff, MaxBackoff: f.cfg.MaxBackoff, LimitTries: f.cfg.LimitTries,
		Handler: func(line []byte, m *esa.Message) error {
			if len(m.MC) > 0 {
				f.note(i, m)
			}
			return f.cfg.Handler(line, m)
		},
	}
	if i == 0 && f.cfg.Order != nil {
		cc.Order = f.cfg.Order
	}
	c, err := esa.NewClient(cc)
	if err != nil {
		return nil, err
	}
	f.clients = append(f.clients, c)
	f.delivered = append(f.delivered, false)
	return c, nil
}

// note marks connection i as working and the message's markets as seen.
func (f *Feed) note(i int, m *esa.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered[i] = true
	for j := range m.MC {
		if id := m.MC[j].ID; !f.seen[string(id)] {
			f.seen[string(id)] = true
		}
	}
}

// Run logs in, subscribes and keeps the connections alive until ctx ends
// (then it returns nil, or an *UnrecordedError) or one fails in a way
// retrying cannot help: a refused login, a fatal stream status, a
// certificate that does not verify, the handler's error, or the connection
// limit (a *ConnectionLimitError). Call it once.
func (f *Feed) Run(ctx context.Context) error {
	if err := f.login(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	groups, split := f.plan(ctx)

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var first error
	start := func(c *esa.Client) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(runCtx); err != nil && runCtx.Err() == nil {
				errMu.Lock()
				if first == nil {
					first = err
				}
				errMu.Unlock()
				cancel(err)
			}
		}()
	}
	f.mu.Lock()
	for _, ids := range groups {
		c, err := f.addClient(f.subscription(ids))
		if err != nil {
			f.mu.Unlock()
			return err
		}
		start(c)
	}
	f.mu.Unlock()
	if split && f.cfg.Relist > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.relist(runCtx, start)
		}()
	}
	<-runCtx.Done()
	wg.Wait()
	if first != nil {
		return f.explain(first)
	}
	if ids := f.Unrecorded(); len(ids) > 0 {
		return &UnrecordedError{Markets: ids}
	}
	return nil
}

// plan returns the market ids of each connection (one nil group: by the
// filter alone) and whether the filter's markets were split.
func (f *Feed) plan(ctx context.Context) (groups [][]string, split bool) {
	ids := f.cfg.MarketIDs
	exact := len(ids) > 0
	if len(ids) == 0 && f.cfg.List != nil {
		listed, err := f.cfg.List(ctx)
		if err != nil {
			f.log.Warn("could not list the filter's markets; subscribing by the filter alone", "err", err)
			return [][]string{nil}, false
		}
		exact = f.cfg.ListIsExact
		if len(listed) <= f.cfg.PerConnection {
			// One connection holds them: subscribe by the filter, which
			// also brings markets listed later.
			f.choose(listed, exact)
			return [][]string{nil}, false
		}
		ids, split = listed, true
		f.log.Info("filter's markets split over connections", "markets", len(ids), "connections", (len(ids)+f.cfg.PerConnection-1)/f.cfg.PerConnection)
	}
	if len(ids) == 0 {
		return [][]string{nil}, false
	}
	f.choose(ids, exact)
	f.markets = len(ids)
	return f.split(ids), split
}

// choose records ids as subscribed; a change is expected from each only
// when exact.
func (f *Feed) choose(ids []string, exact bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.known[id] = true
		if exact {
			f.selected[id] = true
		}
	}
}

// relist lists the filter every Relist and gives markets it comes to match
// (tomorrow's races listed during the day) connections of their own.
func (f *Feed) relist(ctx context.Context, start func(*esa.Client)) {
	t := time.NewTicker(f.cfg.Relist)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids, err := f.cfg.List(ctx)
		if err != nil {
			f.log.Warn("re-listing the filter's markets failed", "err", err)
			continue
		}
		f.mu.Lock()
		var fresh []string
		for _, id := range ids {
			if !f.known[id] {
				fresh = append(fresh, id)
			}
		}
		f.mu.Unlock()
		if len(fresh) == 0 {
			continue
		}
		f.choose(fresh, f.cfg.ListIsExact)
		groups := f.split(fresh)
		f.mu.Lock()
		f.markets += len(fresh)
		for _, g := range groups {
			c, err := f.addClient(f.subscription(g))
			if err != nil {
				f.log.Error("subscribing to new markets", "err", err)
				continue
			}
			start(c)
		}
		f.mu.Unlock()
		f.log.Info("new markets subscribed", "markets", len(fresh), "connections", len(groups))
	}
}

// explain turns the connection limit into advice: how many markets per
// connection fit in the connections the exchange did take.
func (f *Feed) explain(err error) error {
	var st *esa.StatusError
	if !errors.As(err, &st) || st.Code != "MAX_CONNECTION_LIMIT_EXCEEDED" {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := &ConnectionLimitError{Err: st, Markets: f.markets, Connections: len(f.clients)}
	for _, ok := range f.delivered {
		if ok {
			e.Accepted++
		}
	}
	if e.Accepted > 0 && e.Markets > 0 {
		e.PerConnection = (e.Markets + e.Accepted - 1) / e.Accepted
	}
	return e
}
