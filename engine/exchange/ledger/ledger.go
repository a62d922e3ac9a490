// Package ledger takes bets for the local exchange (`trade serve
// --betting`): it validates the Betting API's order requests as Betfair
// does, keeps the client's bets with their bet ids, matches them against
// the replayed tapes with engine/sim (the execution model and latency rule
// of `trade backtest`, through the same engine.Execution interface),
// settles them from the tapes' results, and writes the order stream's
// changes. It implements exchange.Betting.
//
// Each customerStrategyRef gets its own execution model in each market, as
// each strategy instance does in a backtest, so a strategy run live against
// the exchange is matched exactly as its backtest is. A request takes effect
// at the first replayed change of its market more than the model's latency
// (plus the bet delay, in play) after the change it arrived at, against the
// book as it stood before that change.
package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/sim"
)

// Betfair's limits on instructions per request.
const (
	maxPlace = betting.MaxPlaceInstructions
	maxOther = betting.MaxCancelInstructions
)

// duplicateWindow is how long Betfair refuses a second request with the
// same customerRef (DUPLICATE_TRANSACTION).
const duplicateWindow = 60 * time.Second

// Config configures a Ledger.
type Config struct {
	// Model is the execution model (flumine's by default).
	Model sim.Model
	// Latency defaults to engine.FlumineLatency when zero.
	Latency engine.Latency
	// Balance is the account's starting balance (default 1000).
	Balance float64
	// Currency is the account's currency (default GBP): getAccountDetails
	// answers it and placements are held to its minimum bet
	// (engine.MinBetFor); New refuses a currency Betfair does not list.
	Currency string
	// Now is the wall clock, for the customerRef window; default time.Now.
	Now func() time.Time
	// Log receives one line per order request; nil discards them.
	Log *slog.Logger
}

// Ledger is the exchange's book of the client's bets. It is safe for
// concurrent use.
type Ledger struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	cache   *book.MarketCache
	dec     *esa.Decoder
	msg     esa.Message
	line    []byte
	markets map[string]*market
	bets    map[string]*bet
	order   []*bet // every bet, in placement order
	nextBet int64
	refs    map[string]time.Time // customerRef → when first seen
	minBet  engine.MinBet        // Currency's
	changes []exchange.OrderChange
	balance float64
}

var _ exchange.Betting = (*Ledger)(nil)

// market is what the ledger keeps of one market.
type market struct {
	id     string
	bk     *book.Market
	now    int64 // publish time of its last change
	strats []*strategy
	closed bool
	// settledAt is the publish time of its CLOSED change.
	settledAt int64
}

// strategy is one customerStrategyRef's bets in one market, with its own
// execution model, as a strategy instance has in a backtest.
type strategy struct {
	ref     string
	model   engine.Execution
	states  []*engine.OrderState
	bets    []*bet
	pending []*request
}

// bet is one of the client's bets.
type bet struct {
	id  string
	m   *market
	st  *strategy
	s   engine.OrderState
	rfo string
	// sent is how many fills the order stream has told; told whether it
	// has told the bet at all; last is the last view sent.
	sent   int
	told   bool
	last   view
	placed bool // the placement has run (successfully or not)
	failed bool // the placement failed: not a bet on the exchange
	// placedAt, matchedAt and cancelledAt are the exchange's clock (pt)
	// at placement, last fill and last cancellation.
	placedAt, matchedAt, cancelledAt int64
}

// view is what the order stream has said of a bet.
type view struct {
	sm, avp, sc, sl, sv float64
	complete            bool
}

// request is an order instruction waiting out its latency.
type request struct {
	kind  engine.RequestKind
	at    int64
	delay float64
	b     *bet
	size  float64            // cancel: size reduction (0: all)
	pers  engine.Persistence // update
	price float64            // replace
	done  chan struct{}      // closed once it has run
	ok    bool               // its outcome
	code  betting.InstructionErrorCode
	// cancelled is what a cancel (or a replace's cancel) took off; nb a
	// replace's new bet.
	cancelled float64
	nb        *bet
}

// Check says whether New can take the configuration: an error names a
// Currency Betfair does not list (trade serve checks its flags with it).
func (cfg Config) Check() error {
	if _, ok := engine.MinBetFor(cfg.currency()); !ok {
		return fmt.Errorf("currency %q is not in Betfair's table of minimum bets (%s)", cfg.Currency, strings.Join(engine.Currencies(), " "))
	}
	return nil
}

// currency is Currency, GBP when unset.
func (cfg Config) currency() string {
	if cfg.Currency == "" {
		return "GBP"
	}
	return cfg.Currency
}

// New returns an empty ledger. It panics on a configuration Check refuses:
// that is the caller's mistake, user input being checked first.
func New(cfg Config) *Ledger {
	if cfg.Latency == (engine.Latency{}) {
		cfg.Latency = engine.FlumineLatency
	}
	if cfg.Balance == 0 {
		cfg.Balance = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.Check(); err != nil {
		panic("ledger.New: " + err.Error())
	}
	cfg.Currency = cfg.currency()
	minBet, _ := engine.MinBetFor(cfg.Currency)
	l := &Ledger{cfg: cfg, minBet: minBet, log: cfg.Log, cache: book.NewMarketCache(book.Options{}), dec: esa.NewDecoder(),
		markets: map[string]*market{}, bets: map[string]*bet{}, refs: map[string]time.Time{},
		nextBet: 300000000000, balance: cfg.Balance}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l
}

// Change implements exchange.Betting: the market's due requests run
// against its book as it stands, then the change is applied, then resting
// bets are matched against it (or, at CLOSED, every bet is settled).
func (l *Ledger) Change(pt int64, mc []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.line = append(l.line[:0], `{"op":"mcm","pt":`...)
	l.line = strconv.AppendInt(l.line, pt, 10)
	l.line = append(l.line, `,"mc":[`...)
	l.line = append(l.line, mc...)
	l.line = append(l.line, "]}"...)
	if err := l.dec.Decode(l.line, &l.msg); err != nil {
		return fmt.Errorf("ledger: change at pt %d: %w", pt, err)
	}
	if len(l.msg.MC) == 0 {
		return nil
	}
	id := string(l.msg.MC[0].ID)
	m := l.markets[id]
	if m == nil {
		m = &market{id: id}
		l.markets[id] = m
	}
	if m.closed {
		return nil
	}
	for _, st := range m.strats {
		l.advance(m, st, pt)
	}
	for _, bk := range l.cache.Apply(&l.msg) {
		if bk.ID != id {
			continue
		}
		m.bk, m.now = bk, pt
		if bk.Closed() {
			m.closed, m.settledAt = true, pt
			for _, st := range m.strats {
				st.model.Settle(bk, st.states)
				for _, b := range st.bets {
					b.s.Settled = true
					if b.placed && !b.failed && b.s.SizeMatched > 0 {
						l.balance += b.s.Profit
					}
				}
			}
			l.closeMarket(m, pt)
			continue
		}
		for _, st := range m.strats {
			st.model.Book(bk, st.states, pt)
			for _, b := range st.bets {
				housekeep(b, pt)
				l.tell(b, pt)
			}
		}
	}
	return nil
}

// housekeep completes a bet with nothing left to match, as the engine's
// loop does after each book.
func housekeep(b *bet, now int64) {
	s := &b.s
	if !b.placed || s.Status == engine.ExecutionComplete {
		return
	}
	if s.Type == engine.Limit && s.SizeRemaining() == 0 || s.Type != engine.Limit && s.BSPReconciled {
		s.Complete(now)
	}
}

// advance runs a strategy's requests whose latency has passed at clock
// now, in the order they arrived, against the market's book as it stands.
func (l *Ledger) advance(m *market, st *strategy, now int64) {
	keep := st.pending[:0]
	var due []*request
	for _, r := range st.pending {
		if engine.Due(r.at, now, r.delay) {
			due = append(due, r)
		} else {
			keep = append(keep, r)
		}
	}
	st.pending = keep
	for _, r := range due {
		l.run(m, st, r, now)
		close(r.done)
	}
}

// run carries out one request with the strategy's execution model.
func (l *Ledger) run(m *market, st *strategy, r *request, now int64) {
	b, s, bk := r.b, &r.b.s, m.bk
	switch r.kind {
	case engine.PlaceRequest:
		r.ok = l.place(b, bk, now)
		if !r.ok {
			r.code = betting.InstructionErrorCode(s.ErrorCode)
		}
	case engine.CancelRequest:
		if s.Status == engine.ExecutionComplete {
			r.code = betting.InstrBetTakenOrLapsed
			return
		}
		before := s.SizeCancelled
		if r.ok = st.model.Cancel(s, r.size, bk, now); r.ok {
			r.cancelled = engine.Round2(s.SizeCancelled - before)
			b.cancelledAt = now
			housekeep(b, now)
		} else {
			r.code = betting.InstrErrorInOrder
		}
		l.tell(b, now)
	case engine.UpdateRequest:
		if s.Status == engine.ExecutionComplete {
			r.code = betting.InstrBetTakenOrLapsed
			return
		}
		if r.ok = st.model.Update(s, r.pers, bk, now); r.ok {
			s.Persistence = r.pers
		} else {
			r.code = betting.InstrErrorInOrder
		}
		l.tell(b, now)
	case engine.ReplaceRequest:
		if s.Status == engine.ExecutionComplete {
			r.code = betting.InstrBetTakenOrLapsed
			return
		}
		before := s.SizeCancelled
		if !st.model.Cancel(s, 0, bk, now) {
			r.code = betting.InstrErrorInOrder
			return
		}
		r.cancelled = engine.Round2(s.SizeCancelled - before)
		b.cancelledAt = now
		housekeep(b, now)
		s.Complete(now)
		l.tell(b, now)
		nb := l.newBet(m, st, b.rfo, engine.OrderState{MarketID: m.id, SelectionID: s.SelectionID, Handicap: s.Handicap,
			Side: s.Side, Type: engine.Limit, Price: r.price, Size: r.cancelled, Persistence: s.Persistence, CreatedAt: r.at})
		r.nb = nb
		r.ok = l.place(nb, bk, now)
		if !r.ok {
			r.code = betting.InstructionErrorCode(nb.s.ErrorCode)
		}
	}
}

// place runs a placement through the model at clock now and tells the
// order stream.
func (l *Ledger) place(b *bet, bk *book.Market, now int64) bool {
	s := &b.s
	b.placed, b.placedAt = true, now
	s.PlacedAt = now
	ok := b.st.model.Place(s, bk, now)
	if !ok {
		b.failed = true
		s.Complete(now)
	} else {
		s.Status = engine.Executable
		housekeep(b, now)
	}
	l.tell(b, now)
	return ok
}

// newBet adds a bet (not yet placed) to the ledger.
func (l *Ledger) newBet(m *market, st *strategy, rfo string, s engine.OrderState) *bet {
	l.nextBet++
	b := &bet{id: strconv.FormatInt(l.nextBet, 10), m: m, st: st, s: s, rfo: rfo}
	b.s.BetID, b.s.Strategy, b.s.CustomerRef, b.s.DeadHeat, b.s.Status = b.id, st.ref, rfo, 1, engine.Pending
	l.bets[b.id] = b
	l.order = append(l.order, b)
	st.bets = append(st.bets, b)
	st.states = append(st.states, &b.s)
	return b
}

// strategyOf returns the strategy ref's state in market m, creating it: a
// fresh model that has seen the market's current book, as a backtest's
// model has seen every book before the strategy's first order.
func (l *Ledger) strategyOf(m *market, ref string) *strategy {
	for _, st := range m.strats {
		if st.ref == ref {
			return st
		}
	}
	st := &strategy{ref: ref, model: sim.New(l.cfg.Model)}
	if m.bk != nil {
		st.model.Book(m.bk, nil, m.now)
	}
	m.strats = append(m.strats, st)
	return st
}

// Call implements exchange.Betting.
func (l *Ledger) Call(ctx context.Context, method string, params json.RawMessage, queued func()) (any, error) {
	switch method {
	case "placeOrders":
		return l.placeOrders(ctx, params, queued)
	case "cancelOrders":
		return l.cancelOrders(ctx, params, queued)
	case "replaceOrders":
		return l.replaceOrders(ctx, params, queued)
	case "updateOrders":
		return l.updateOrders(ctx, params, queued)
	case "listCurrentOrders":
		return l.listCurrentOrders(params)
	case "listClearedOrders":
		return l.listClearedOrders(params)
	case "getAccountFunds":
		return l.accountFunds(), nil
	case "getAccountDetails":
		return l.accountDetails(), nil
	case "listMarketBook":
		return l.listMarketBook(params)
	}
	return nil, &exchange.APIError{Code: "INVALID_INPUT_DATA", Details: "unknown method " + method}
}

func inputError(format string, args ...any) error {
	return &exchange.APIError{Code: "INVALID_INPUT_DATA", Details: fmt.Sprintf(format, args...)}
}

func decode(params json.RawMessage, v any) error {
	if len(params) == 0 {
		return nil
	}
	if err := json.Unmarshal(params, v); err != nil {
		return inputError("%v", err)
	}
	return nil
}

// duplicate reports whether customerRef was used within Betfair's window,
// and records it when not. An empty reference is never a duplicate.
func (l *Ledger) duplicate(ref string) bool {
	if ref == "" {
		return false
	}
	now := l.cfg.Now()
	if t, ok := l.refs[ref]; ok && now.Sub(t) < duplicateWindow {
		return true
	}
	l.refs[ref] = now
	return false
}

// marketCode is why market id takes no order now (execution level), or "".
func (l *Ledger) marketCode(id string) betting.ExecutionErrorCode {
	m := l.markets[id]
	if m == nil || m.bk == nil || m.closed {
		return betting.ExecMarketNotOpenForBetting
	}
	switch m.bk.Status() {
	case esa.MarketOpen:
		return ""
	case esa.MarketSuspended:
		return betting.ExecMarketSuspended
	}
	return betting.ExecMarketNotOpenForBetting
}

// wait blocks until every request has run or ctx ends.
func wait(ctx context.Context, reqs []*request) error {
	for _, r := range reqs {
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// date is Betfair's time format for an epoch-ms clock.
func date(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// sortedBets returns the bets chosen by keep, in placement order.
func (l *Ledger) sortedBets(keep func(*bet) bool) []*bet {
	var out []*bet
	for _, b := range l.order {
		if keep(b) {
			out = append(out, b)
		}
	}
	return out
}

// page cuts one page of n items from fromRecord, recordCount (0: up to
// 1000, Betfair's maximum) and says whether more are available.
func page(n, from, count int) (lo, hi int, more bool) {
	if count <= 0 || count > 1000 {
		count = 1000
	}
	lo = min(max(from, 0), n)
	hi = min(lo+count, n)
	return lo, hi, hi < n
}

func in(list []string, s string) bool { return len(list) == 0 || slices.Contains(list, s) }
