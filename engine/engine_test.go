package engine_test

import (
	"context"
	"reflect"
	"strconv"
	"testing"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

func streams(t *testing.T) []string {
	return []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
}

func replay(t *testing.T, inputs []string, cfg engine.Config) *engine.Result {
	t.Helper()
	if cfg.NewExecution == nil {
		cfg.NewExecution = sim.NewExecution(sim.Flumine)
	}
	res, err := engine.Replay(context.Background(), inputs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func builtin(t *testing.T, name string) func() (engine.Strategy, error) {
	in, ok := strategies.Builtins().Lookup(name)
	if !ok {
		t.Fatal(name)
	}
	return func() (engine.Strategy, error) { return in.New(nil) }
}

// panicky panics in one hook on every call and places nothing.
type panicky struct {
	engine.BaseStrategy
	hook string
}

func (p *panicky) Name() string { return "panicky" }
func (p *panicky) CheckMarketBook(*engine.Market) bool {
	if p.hook == "CheckMarketBook" {
		panic("boom")
	}
	return true
}
func (p *panicky) ProcessMarketBook(m *engine.Market) {
	if p.hook == "ProcessMarketBook" && m.Status() == "OPEN" {
		var r []int
		_ = r[1] // a runtime error, as a real bug would give
	}
}

// TestPanicInHookIsCaught: a panic in a hook is counted per market and the
// replay goes on to the end of every market.
func TestPanicInHookIsCaught(t *testing.T) {
	in := streams(t)
	plain := replay(t, in, engine.Config{NewStrategy: builtin(t, "passive-back")})
	for _, hook := range []string{"CheckMarketBook", "ProcessMarketBook"} {
		res := replay(t, in, engine.Config{NewStrategy: func() (engine.Strategy, error) { return &panicky{hook: hook}, nil }})
		if res.StrategyErrors == 0 {
			t.Errorf("%s: no strategy errors counted", hook)
		}
		if res.Updates != plain.Updates {
			t.Errorf("%s: %d updates replayed, want %d", hook, res.Updates, plain.Updates)
		}
		sum := 0
		for _, m := range res.Markets {
			sum += m.StrategyErrors
			if m.Status != "CLOSED" {
				t.Errorf("%s: market %s ended %s, want CLOSED", hook, m.MarketID, m.Status)
			}
		}
		if sum != res.StrategyErrors {
			t.Errorf("%s: markets count %d errors, total %d", hook, sum, res.StrategyErrors)
		}
	}
}

// TestDeterministic: the same orders whatever the number of workers, and
// event grouping gives the same result for a strategy that looks at one
// market at a time.
func TestDeterministic(t *testing.T) {
	in := streams(t)
	a := replay(t, in, engine.Config{NewStrategy: builtin(t, "passive-back"), Workers: 1})
	b := replay(t, in, engine.Config{NewStrategy: builtin(t, "passive-back"), Workers: 2})
	c := replay(t, in, engine.Config{NewStrategy: builtin(t, "passive-back"), EventGroup: true})
	if len(a.Orders) == 0 {
		t.Fatal("no orders")
	}
	for _, r := range []*engine.Result{b, c} {
		if len(r.Orders) != len(a.Orders) {
			t.Fatalf("%d orders, want %d", len(r.Orders), len(a.Orders))
		}
		for i := range a.Orders {
			x, y := a.Orders[i].State(), r.Orders[i].State()
			if !reflect.DeepEqual(x.Matched, y.Matched) || x.Profit != y.Profit || x.Status != y.Status || x.SizeLapsed != y.SizeLapsed {
				t.Errorf("order %d differs: %v vs %v", i, &x, &y)
			}
		}
	}
}

// controlled places one order of each kind a control must stop, once, at
// the first OPEN book.
type controlled struct {
	engine.BaseStrategy
	done   bool
	orders []*engine.Order
	closed []*engine.Order
}

func (*controlled) Name() string { return "controlled" }
func (*controlled) Limits() engine.Limits {
	return engine.Limits{MaxOrderExposure: 50, MaxTradeCount: 2}
}
func (c *controlled) CheckMarketBook(m *engine.Market) bool { return !c.done }
func (c *controlled) ProcessMarketBook(m *engine.Market) {
	r := m.Runners()[0]
	if m.Status() != "OPEN" {
		c.closed = append(c.closed, m.PlaceLimit(r.SelectionID, r.Handicap, engine.Back, 2, 2))
		return
	}
	c.done = true
	id, hc := r.SelectionID, r.Handicap
	c.orders = append(c.orders,
		m.PlaceLimit(id, hc, engine.Back, 2.03, 2),  // off the ladder (2.02, 2.04)
		m.PlaceLimit(id, hc, engine.Back, 2, 0.5),   // below the minimum stake and payout
		m.PlaceLimit(id, hc, engine.Lay, 100, 2),    // liability 198 > 50
		m.PlaceLimit(id, hc, engine.Back, 1000, 2),  // fine
		m.PlaceLimit(id, hc, engine.Back, 1000, 2),  // fine (second trade)
		m.PlaceLimit(id, hc, engine.Back, 1000, 2),  // third trade: over the count
		m.PlaceLimit(id, hc, engine.Back, 2, 2.001), // three decimals
	)
}

func TestControlsRecordViolations(t *testing.T) {
	var c *controlled
	replay(t, streams(t)[:1], engine.Config{NewStrategy: func() (engine.Strategy, error) { c = &controlled{}; return c, nil }})
	want := []bool{true, true, true, false, false, true, true}
	if len(c.orders) != len(want) {
		t.Fatalf("%d orders", len(c.orders))
	}
	for i, oo := range c.orders {
		o := oo.State()
		if got := o.Status == engine.Violation; got != want[i] {
			t.Errorf("order %d: status %s (%q), want violation %v", i, o.Status, o.Violation, want[i])
		}
		if want[i] && o.Violation == "" {
			t.Errorf("order %d: violation without a reason", i)
		}
	}
	if c.orders[3].CustomerRef() != "controlled-3" {
		t.Errorf("customer ref %q", c.orders[3].CustomerRef())
	}
}

func TestWAPAndRound2(t *testing.T) {
	for _, tc := range []struct {
		fills     []engine.Fill
		size, avg float64
	}{
		{nil, 0, 0},
		{[]engine.Fill{{0, 2, 1.62}, {0, 2, 0.38}}, 2, 2},
		{[]engine.Fill{{0, 1.5, 1}, {0, 1.6, 1}}, 2, 1.55},
		{[]engine.Fill{{0, 3.05, 1}, {0, 3.1, 2}}, 3, 3.08},
	} {
		s, a := engine.WAP(tc.fills)
		if s != tc.size || a != tc.avg {
			t.Errorf("WAP(%v) = %g, %g; want %g, %g", tc.fills, s, a, tc.size, tc.avg)
		}
	}
	for in, want := range map[float64]float64{2.675: 2.67, 0.125: 0.12, 1.005: 1, -0.5: -0.5, 3.14159: 3.14} {
		if got := engine.Round2(in); got != want {
			t.Errorf("Round2(%g) = %g, want %g", in, got, want)
		}
	}
}

// TestRound2FastPath checks the fast path against the decimal route on
// many values, ties and near-ties included.
func TestRound2FastPath(t *testing.T) {
	slow := func(x float64) float64 {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
		return v
	}
	for i := -200000; i <= 200000; i++ {
		for _, x := range []float64{float64(i) / 1000, float64(i) / 997, float64(i)*0.01 + 0.005, float64(i) * 1.0000001 / 3} {
			if got, want := engine.Round2(x), slow(x); got != want {
				t.Fatalf("Round2(%v) = %v, want %v", x, got, want)
			}
		}
	}
}

// mover rests one back far above the market, then updates, replaces and
// part-cancels it, one request at a time.
type mover struct {
	engine.BaseStrategy
	step       int
	orig, repl *engine.Order
	price      float64
}

func (*mover) Name() string                          { return "mover" }
func (*mover) CheckMarketBook(m *engine.Market) bool { return m.Status() == "OPEN" }
func (v *mover) ProcessMarketBook(m *engine.Market) {
	if v.orig != nil {
		return
	}
	r := m.Runners()[0]
	lay, _, ok := engine.BestLay(r, 0)
	if !ok {
		return
	}
	v.price, _ = engine.TicksAway(lay, 30)
	v.orig = m.PlaceLimit(r.SelectionID, r.Handicap, engine.Back, v.price, 2)
}
func (v *mover) ProcessOrders(m *engine.Market, _ []*engine.Order) {
	switch {
	case v.step == 0 && v.orig.Status() == engine.Executable:
		if m.Update(v.orig, engine.Persist) {
			v.step++
		}
	case v.step == 1 && v.orig.Status() == engine.Executable:
		p, _ := engine.TicksAway(v.price, 5)
		if m.Replace(v.orig, p) {
			v.step++
		}
	case v.step == 2 && v.orig.ReplacedBy() != nil && v.orig.ReplacedBy().Status() == engine.Executable:
		v.repl = v.orig.ReplacedBy()
		if m.Cancel(v.repl, 0.5) {
			v.step++
		}
	}
}

func TestUpdateReplaceCancel(t *testing.T) {
	var v *mover
	replay(t, streams(t)[:1], engine.Config{NewStrategy: func() (engine.Strategy, error) { v = &mover{}; return v, nil }})
	if v.step != 3 || v.repl == nil {
		t.Fatalf("stopped at step %d", v.step)
	}
	o, n := v.orig.State(), v.repl.State()
	// These greyhound markets have persistenceEnabled false: the update
	// fails, as it does on Betfair, and the order keeps LAPSE.
	if o.Status != engine.ExecutionComplete || o.SizeCancelled != 2 || o.Persistence != engine.Lapse {
		t.Errorf("original: %s cancelled %g persistence %s", o.Status, o.SizeCancelled, o.Persistence)
	}
	want, _ := engine.TicksAway(v.price, 5)
	if n.Price != want || n.Size != 2 || n.Persistence != engine.Lapse || n.ID != o.ID+1 {
		t.Errorf("replacement: %v", n)
	}
	if n.SizeCancelled != 0.5 {
		t.Errorf("replacement cancelled %g, want 0.5", n.SizeCancelled)
	}
	if n.SizeMatched+n.SizeLapsed+n.SizeCancelled != 2 || n.Status != engine.ExecutionComplete {
		t.Errorf("replacement %s: matched %g lapsed %g cancelled %g", n.Status, n.SizeMatched, n.SizeLapsed, n.SizeCancelled)
	}
}

// spTaker places the starting-price order types on the first runner at
// the first OPEN book.
type spTaker struct {
	engine.BaseStrategy
	orders []*engine.Order
}

func (*spTaker) Name() string { return "sp" }
func (s *spTaker) CheckMarketBook(m *engine.Market) bool {
	return m.Status() == "OPEN" && len(s.orders) == 0
}
func (s *spTaker) ProcessMarketBook(m *engine.Market) {
	r := m.Runners()[0]
	id, hc := r.SelectionID, r.Handicap
	s.orders = append(s.orders,
		m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Back, Type: engine.MarketOnClose, Liability: 2}),
		m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Lay, Type: engine.MarketOnClose, Liability: 10}),
		m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Back, Type: engine.LimitOnClose, Price: 1.01, Liability: 2}),
		m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Lay, Type: engine.LimitOnClose, Price: 1.01, Liability: 10}),
		m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Back, Price: 1000, Size: 2, Persistence: engine.PersistMarketOnClose}),
	)
}

// TestStartingPrice: at reconciliation, orders taking SP match at the
// runner's BSP from the definition (85 for 1.197931750's first runner).
func TestStartingPrice(t *testing.T) {
	var s *spTaker
	replay(t, streams(t)[:1], engine.Config{NewStrategy: func() (engine.Strategy, error) { s = &spTaker{}; return s, nil }})
	const sp = 85.0
	for i, want := range []struct{ size, price float64 }{
		{2, sp},                            // MOC back: liability is the stake
		{engine.Round2(10 / (sp - 1)), sp}, // MOC lay: liability / (SP - 1)
		{2, sp},                            // LOC back at 1.01: SP is above it
		{0, 0},                             // LOC lay at 1.01: SP above the limit, nothing
		{2, sp},                            // limit back, persistence MARKET_ON_CLOSE
	} {
		o := s.orders[i].State()
		if o.Status == engine.Violation {
			t.Fatalf("order %d: violation %s", i, o.Violation)
		}
		if o.SizeMatched != want.size || o.AvgPriceMatched != want.price || o.Status != engine.ExecutionComplete {
			t.Errorf("order %d (%s %s): %s matched %g@%g, want %g@%g", i, o.Side, o.Type, o.Status, o.SizeMatched, o.AvgPriceMatched, want.size, want.price)
		}
	}
}

func TestReplayStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := engine.Replay(ctx, streams(t), engine.Config{NewStrategy: builtin(t, "passive-back"), NewExecution: sim.NewExecution(sim.Flumine)})
	if err == nil {
		t.Fatal("no error from a cancelled replay")
	}
}

// fok places fill-or-kill backs at the first OPEN book: one at the best
// back price with min fill 1, one far inside the lay side (crossing several
// levels), and one whose min fill exceeds its size.
type fok struct {
	engine.BaseStrategy
	orders []*engine.Order
}

func (*fok) Name() string { return "fok" }
func (f *fok) CheckMarketBook(m *engine.Market) bool {
	return m.Status() == "OPEN" && len(f.orders) == 0
}
func (f *fok) ProcessMarketBook(m *engine.Market) {
	for _, r := range m.Runners() {
		back, _, ok := engine.BestBack(r, 0)
		if !ok {
			continue
		}
		id, hc := r.SelectionID, r.Handicap
		f.orders = append(f.orders,
			m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Back, Price: back, Size: 2, MinFillSize: 1, FillOrKill: true}),
			m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Back, Price: 1.01, Size: 2, FillOrKill: true}),
			m.Place(engine.OrderRequest{SelectionID: id, Handicap: hc, Side: engine.Back, Price: back, Size: 2, MinFillSize: 3, FillOrKill: true}),
		)
		return
	}
}

func TestFillOrKill(t *testing.T) {
	var f *fok
	replay(t, streams(t)[:1], engine.Config{NewStrategy: func() (engine.Strategy, error) { f = &fok{}; return f, nil }})
	if len(f.orders) != 3 {
		t.Fatalf("%d orders", len(f.orders))
	}
	for i, oo := range f.orders {
		o := oo.State()
		if o.Status != engine.ExecutionComplete {
			t.Errorf("order %d: %s, want EXECUTION_COMPLETE", i, o.Status)
		}
		if o.SizeMatched+o.SizeCancelled != 2 {
			t.Errorf("order %d: matched %g + cancelled %g, want 2", i, o.SizeMatched, o.SizeCancelled)
		}
		if o.SizeMatched != 0 && o.SizeMatched < 1 {
			t.Errorf("order %d: matched %g, under its min fill", i, o.SizeMatched)
		}
	}
	// At 1.01 a back takes whatever is offered: filled in full.
	if o := f.orders[1].State(); o.SizeMatched != 2 || o.AvgPriceMatched < 1.01 {
		t.Errorf("back at 1.01: matched %g@%g", o.SizeMatched, o.AvgPriceMatched)
	}
	if o := f.orders[2].State(); o.ErrorCode != "INVALID_MIN_FILL_SIZE" || o.SizeMatched != 0 {
		t.Errorf("min fill over size: error %q matched %g", o.ErrorCode, o.SizeMatched)
	}
}

// early backs every ACTIVE runner at its best back price at the first OPEN
// book, so its orders cross and are matched before any removal.
type early struct {
	engine.BaseStrategy
	orders []*engine.Order
}

func (*early) Name() string { return "early" }
func (e *early) CheckMarketBook(m *engine.Market) bool {
	return m.Status() == "OPEN" && len(e.orders) == 0
}
func (e *early) ProcessMarketBook(m *engine.Market) {
	for _, r := range m.Runners() {
		if r.Status() != "ACTIVE" {
			continue
		}
		if p, _, ok := engine.BestBack(r, 0); ok {
			e.orders = append(e.orders, m.PlaceLimit(r.SelectionID, r.Handicap, engine.Back, p, 2))
		}
	}
}

// TestNonRunners: in 1.205822330 (an Australian PLACE market) three runners
// are removed after the orders matched, with adjustment factors 27.58, 8.37
// and 2.41. Orders on them are voided; every other order's matched price is
// reduced by the first two in turn (2.41 is under flumine's 2.5 threshold).
func TestNonRunners(t *testing.T) {
	var e *early
	replay(t, []string{testenv.Shared(t, "data/historic/1.205822330.bz2")},
		engine.Config{NewStrategy: func() (engine.Strategy, error) { e = &early{}; return e, nil }})
	removed := map[int64]bool{2329545: true, 49808340: true, 42011335: true}
	voided := 0
	for _, oo := range e.orders {
		o := oo.State()
		if removed[o.SelectionID] {
			voided++
			if o.SizeVoided != 2 || o.SizeMatched != 0 || len(o.Matched) != 0 || o.Profit != 0 {
				t.Errorf("order on removed %d: voided %g matched %g profit %g", o.SelectionID, o.SizeVoided, o.SizeMatched, o.Profit)
			}
			continue
		}
		if len(o.Matched) != 1 || o.SizeMatched != 2 {
			t.Fatalf("order on %d: fills %v", o.SelectionID, o.Matched)
		}
		want := o.Price
		for _, af := range []float64{27.58, 8.37} {
			want = max(engine.Round2(want*(1-af/100)), 1.01)
		}
		if o.Matched[0].Price != want || o.AvgPriceMatched != want {
			t.Errorf("order on %d at %g: matched at %g (average %g), want %g", o.SelectionID, o.Price, o.Matched[0].Price, o.AvgPriceMatched, want)
		}
	}
	if voided != 3 {
		t.Errorf("%d orders on removed runners, want 3", voided)
	}
}

// minBets places, at the first OPEN book, a back of 2 at 2, of 3 at 10 and
// of 2 at 30.
type minBets struct {
	engine.BaseStrategy
	orders []*engine.Order
}

func (*minBets) Name() string                          { return "min-bets" }
func (m *minBets) CheckMarketBook(*engine.Market) bool { return m.orders == nil }
func (m *minBets) ProcessMarketBook(mk *engine.Market) {
	if mk.Status() != "OPEN" {
		return
	}
	r := mk.Runners()[0]
	for _, ps := range [][2]float64{{2, 2}, {10, 3}, {30, 2}} {
		m.orders = append(m.orders, mk.PlaceLimit(r.SelectionID, r.Handicap, engine.Back, ps[0], ps[1]))
	}
}

// must is the minimum bet of a currency in Betfair's table.
func must(m engine.MinBet, ok bool) engine.MinBet {
	if !ok {
		panic("not in Betfair's table")
	}
	return m
}

// TestMinBetByCurrency: the controls take the account currency's minimum
// bet (Config.MinBet), Betfair's GBP one when it is not set.
func TestMinBetByCurrency(t *testing.T) {
	for _, tc := range []struct {
		name      string
		min       engine.MinBet
		violation []bool
	}{
		{"GBP by default", engine.MinBet{}, []bool{false, false, false}},
		{"a stake of 5 or a payout of 50", engine.MinBet{Size: 5, Payout: 50}, []bool{true, true, false}},
		{"AUD's: a stake of 5 or a payout of 30", must(engine.MinBetFor("AUD")), []bool{true, false, false}},
	} {
		var s *minBets
		replay(t, streams(t)[:1], engine.Config{MinBet: tc.min, NewStrategy: func() (engine.Strategy, error) { s = &minBets{}; return s, nil }})
		if len(s.orders) != len(tc.violation) {
			t.Fatalf("%s: %d orders", tc.name, len(s.orders))
		}
		for i, o := range s.orders {
			if got := o.Status() == engine.Violation; got != tc.violation[i] {
				t.Errorf("%s: order %d status %s (%q), want violation %v", tc.name, i, o.Status(), o.Violation(), tc.violation[i])
			}
		}
	}
}
