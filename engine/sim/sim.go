// Package sim simulates the exchange for backtests: it places, cancels and
// updates a strategy's orders against recorded books, fills resting orders
// from traded volume, lapses, voids and adjusts them, takes starting prices
// and settles markets.
//
// Two models are offered. Flumine (the default) reproduces flumine 2.13's
// simulator rule for rule (docs/flumine-notes.md has the rules with
// references to flumine's code), so that a backtest gives the fills the
// community compares everything against. Queue is tapedeck's own refinement
// of it for passive orders (docs/backtest.md): traded volume is not counted
// twice, and the queue ahead of an order shrinks when orders ahead of it at
// its price are cancelled.
package sim

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// Model names a matching model.
type Model uint8

// The models: Flumine is flumine 2.13's; Queue is tapedeck's queue-aware
// refinement.
const (
	Flumine Model = iota
	Queue
)

// String returns the model's name as the command line spells it.
func (m Model) String() string {
	if m == Queue {
		return "queue"
	}
	return "flumine"
}

// ParseModel reads a model name ("flumine" or "queue").
func ParseModel(s string) (Model, error) {
	switch s {
	case "flumine", "":
		return Flumine, nil
	case "queue":
		return Queue, nil
	}
	return 0, fmt.Errorf("sim: unknown model %q (want flumine or queue)", s)
}

// Betfair's GBP minimum liability for a lay taking the starting price
// (flumine's client.min_bsp_liability), and the adjustment factor from
// which flumine reduces matched prices of the other runners.
const (
	MinBSPLiability        = 10.0
	MinReductionAdjustment = 2.5
)

// Sim is the simulated exchange for one market. It implements
// engine.Execution. It is not safe for concurrent use.
type Sim struct {
	model     Model
	analytics map[key]*runnerTraded
	// byIndex mirrors analytics by position in the book's runner list,
	// which is stable, to save a map lookup per runner per book.
	byIndex  []*runnerTraded
	removals []removal
	buf      []esa.PriceSize
	live     []*engine.OrderState
	gen      uint64
	// shown is, per order (queue model), the size shown at its price on its
	// queue's side at the previous book.
	shown map[*engine.OrderState]float64
}

// New returns a simulated exchange for one market.
func New(model Model) *Sim {
	return &Sim{model: model, analytics: map[key]*runnerTraded{}, shown: map[*engine.OrderState]float64{}}
}

// NewExecution returns a factory of fresh Sims for engine.Config.
func NewExecution(model Model) func() engine.Execution {
	return func() engine.Execution { return New(model) }
}

type key struct {
	id int64
	hc float64
}

type removal struct {
	key
	af    float64
	hasAF bool
}

// runnerTraded follows one runner's traded ladder from book to book
// (flumine's RunnerAnalytics): prev is the last ladder seen, delta what
// traded since, by price ascending.
type runnerTraded struct {
	key
	prev  []esa.PriceSize
	delta []esa.PriceSize
	// copy is this book's copy of delta that orders use up, made once per
	// book (gen).
	copy []esa.PriceSize
	gen  uint64
}

var _ engine.Execution = (*Sim)(nil)

// Place implements engine.Execution (flumine's SimulatedOrder.place).
func (s *Sim) Place(o *engine.OrderState, b *book.Market, now int64) bool {
	if b.Status() != esa.MarketOpen {
		return s.fail(o, "ERROR_IN_ORDER", &o.SizeVoided)
	}
	d := b.Def
	o.MarketVersion = d.Version
	if o.PlaceVersion != 0 && o.PlaceVersion != d.Version {
		// Betfair's marketVersion: the market moved on before the bet
		// arrived (flumine voids it with ERROR_IN_ORDER).
		return s.fail(o, "ERROR_IN_ORDER", &o.SizeVoided)
	}
	r := b.Runner(o.SelectionID, o.Handicap)
	if r == nil || r.Status() == esa.RunnerRemoved {
		return s.fail(o, "RUNNER_REMOVED", &o.SizeVoided)
	}
	if o.Type != engine.Limit {
		if !d.BspMarket || d.BspReconciled || d.InPlay {
			o.SizeVoided = o.Liability
			o.ErrorCode = "MARKET_NOT_OPEN_FOR_BSP_BETTING"
			return false
		}
		return true
	}
	if o.Persistence == engine.PersistMarketOnClose && (!d.BspMarket || d.BspReconciled || d.InPlay) {
		return s.fail(o, "BET_ACTION_ERROR", &o.SizeVoided)
	}
	minFill := o.MinFillSize
	if minFill == 0 {
		minFill = o.Size
	}
	if o.FillOrKill && minFill > o.Size {
		return s.fail(o, "INVALID_MIN_FILL_SIZE", &o.SizeCancelled)
	}
	pt := b.PublishTime
	same := engine.Available(r, o.Side, s.buf)
	best, bestSize := 1.01, 0.0
	if o.Side == engine.Lay {
		best = 1000
	}
	if len(same) > 0 {
		best, bestSize = same[0].Price, same[0].Size
	}
	better := func(level float64) bool { // the order's price takes this level
		if o.Side == engine.Back {
			return o.Price <= level
		}
		return o.Price >= level
	}
	if o.FillOrKill {
		switch {
		case !better(best):
		case o.Price == best:
			if bestSize >= minFill {
				s.cross(o, pt, same, o.Size)
			}
		default:
			s.crossVWAP(o, pt, same, minFill)
		}
		o.SizeCancelled += o.SizeRemaining()
		return true
	}
	if better(best) {
		s.cross(o, pt, same, o.Size)
		return true
	}
	opp := engine.Lay
	if o.Side == engine.Lay {
		opp = engine.Back
	}
	o.QueueAhead = 0
	for _, l := range engine.Available(r, opp, s.buf) {
		if l.Price == o.Price {
			o.QueueAhead = l.Size
			break
		}
	}
	if s.model == Queue {
		s.shown[o] = o.QueueAhead
	}
	return true
}

// fail records a failed placement: its error code, and the remainder added
// to the size (voided, lapsed, cancelled) it goes to.
func (s *Sim) fail(o *engine.OrderState, code string, to *float64) bool {
	*to += o.SizeRemaining()
	o.ErrorCode = code
	return false
}

// cross takes each level at or better than the order's price, at the
// level's price, until size is matched (flumine's _process_price_matched).
func (s *Sim) cross(o *engine.OrderState, pt int64, levels []esa.PriceSize, size float64) {
	remaining := size
	for _, l := range levels {
		if remaining == 0 {
			break
		}
		if o.Side == engine.Back && o.Price > l.Price || o.Side == engine.Lay && o.Price < l.Price {
			break
		}
		prev := remaining
		remaining = math.Max(remaining-l.Size, 0)
		m := l.Size
		if remaining == 0 {
			m = prev
		}
		o.AddFill(engine.Fill{Pt: pt, Price: l.Price, Size: engine.Round2(m)})
	}
}

// crossVWAP takes levels while the average price stays at or better than
// the order's price, all undone if less than minFill matched (flumine's
// _process_price_matched_vwap, for fill-or-kill orders).
func (s *Sim) crossVWAP(o *engine.OrderState, pt int64, levels []esa.PriceSize, minFill float64) {
	remaining := o.Size
	for _, l := range levels {
		if remaining == 0 {
			break
		}
		prev := remaining
		remaining = math.Max(remaining-l.Size, 0)
		m := l.Size
		if remaining == 0 {
			m = prev
		}
		f := engine.Fill{Pt: pt, Price: l.Price, Size: engine.Round2(m)}
		_, avg := engine.WAP(append(append([]engine.Fill(nil), o.Matched...), f))
		if o.Side == engine.Back && avg >= o.Price || o.Side == engine.Lay && avg <= o.Price {
			o.AddFill(f)
		} else {
			break
		}
	}
	if o.SizeMatched < minFill {
		o.Matched = o.Matched[:0]
		o.RecomputeMatched()
		o.SizeCancelled += o.SizeRemaining()
	}
}

// Cancel implements engine.Execution.
func (s *Sim) Cancel(o *engine.OrderState, size float64, b *book.Market, now int64) bool {
	if b.Status() != esa.MarketOpen || o.Type != engine.Limit {
		return false
	}
	rem := o.SizeRemaining()
	if size == 0 {
		size = rem
	}
	o.SizeCancelled += math.Min(size, rem)
	return true
}

// Update implements engine.Execution.
func (s *Sim) Update(o *engine.OrderState, p engine.Persistence, b *book.Market, now int64) bool {
	if b.Status() != esa.MarketOpen || (b.Def != nil && !b.Def.PersistenceEnabled) {
		return false
	}
	return o.Type == engine.Limit && o.SizeRemaining() > 0
}

// Book implements engine.Execution (flumine's SimulatedMiddleware).
func (s *Sim) Book(b *book.Market, orders []*engine.OrderState, now int64) {
	var removed []removal
	for i, r := range b.Runners {
		switch r.Status() {
		case esa.RunnerActive:
			s.follow(i, r)
		case esa.RunnerRemoved:
			rm := removal{key: key{r.SelectionID, r.Handicap}}
			if r.Def != nil {
				rm.af, rm.hasAF = r.Def.AdjustmentFactor, r.Def.HasAdjustment
			}
			seen := false
			for _, x := range s.removals {
				if x == rm {
					seen = true
					break
				}
			}
			if !seen {
				s.removals = append(s.removals, rm)
				removed = append(removed, rm)
			}
		}
	}
	for _, rm := range removed {
		s.remove(b, orders, rm)
	}
	live := s.live[:0]
	for _, o := range orders {
		if o.Status == engine.Executable || o.Status == engine.Cancelling || o.Status == engine.Updating || o.Status == engine.Replacing {
			live = append(live, o)
		}
	}
	s.live = live
	if len(live) == 0 {
		return
	}
	// Lays by price descending, backs ascending, then market-on-close, as
	// flumine's _sort_orders; stable like Python's sorted. The live list
	// rarely changes, so it is usually sorted already.
	if !slices.IsSortedFunc(live, byRank) {
		slices.SortStableFunc(live, byRank)
	}
	// Each book's traded deltas are copied once per strategy (flumine's
	// strategy isolation): the orders of this strategy share and use up
	// the copy.
	s.gen++
	for _, o := range live {
		a := s.runner(o.SelectionID, o.Handicap)
		var t []esa.PriceSize
		if a != nil {
			if a.gen != s.gen {
				a.gen = s.gen
				a.copy = append(a.copy[:0], a.delta...)
			}
			t = a.copy
		}
		s.order(o, b, t, now)
	}
}

// runner returns the traded-volume state of a runner, nil if it was never
// ACTIVE.
func (s *Sim) runner(id int64, hc float64) *runnerTraded {
	k := key{id, hc}
	for _, a := range s.byIndex {
		if a != nil && a.key == k {
			return a
		}
	}
	return s.analytics[k]
}

func byRank(a, b *engine.OrderState) int {
	ra, rb := rank(a), rank(b)
	switch {
	case ra < rb:
		return -1
	case ra > rb:
		return 1
	}
	return 0
}

// rank orders live orders as flumine's _sort_orders does.
func rank(o *engine.OrderState) float64 {
	switch {
	case o.Type == engine.MarketOnClose:
		return 3e6
	case o.Side == engine.Lay:
		return -o.Price
	default:
		return 1e6 + o.Price
	}
}

// follow updates one ACTIVE runner's traded deltas (flumine's
// RunnerAnalytics): nothing when the ladder is unchanged; else for each
// price the increase since the last change, or the whole size when the
// price is new. The first book only sets the baseline.
func (s *Sim) follow(i int, r *book.Runner) {
	cur := r.Traded.Levels
	var a *runnerTraded
	if i < len(s.byIndex) && s.byIndex[i] != nil && s.byIndex[i].key == (key{r.SelectionID, r.Handicap}) {
		a = s.byIndex[i]
	} else {
		k := key{r.SelectionID, r.Handicap}
		a = s.analytics[k]
		fresh := a == nil
		if fresh {
			a = &runnerTraded{key: k, prev: append([]esa.PriceSize(nil), cur...)}
			s.analytics[k] = a
		}
		for len(s.byIndex) <= i {
			s.byIndex = append(s.byIndex, nil)
		}
		s.byIndex[i] = a
		if fresh {
			return // the runner's first ACTIVE book only sets the baseline
		}
	}
	if equal(a.prev, cur) {
		a.delta = a.delta[:0]
		return
	}
	a.delta = a.delta[:0]
	j := 0
	for _, c := range cur {
		for j < len(a.prev) && a.prev[j].Price < c.Price {
			j++
		}
		if j < len(a.prev) && a.prev[j].Price == c.Price {
			if d := c.Size - a.prev[j].Size; d > 0 {
				a.delta = append(a.delta, esa.PriceSize{Price: c.Price, Size: engine.Round2(d)})
			}
		} else {
			a.delta = append(a.delta, c)
		}
	}
	a.prev = append(a.prev[:0], cur...)
}

// equal reports whether two ladders hold the same levels. It compares
// their bytes (one memequal): traded ladders hold neither NaN nor -0, so
// bytewise and numeric equality agree.
func equal(a, b []esa.PriceSize) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	n := len(a) * int(unsafe.Sizeof(a[0]))
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), n), unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), n))
}

// order is flumine's SimulatedOrder.__call__ for one live order.
func (s *Sim) order(o *engine.OrderState, b *book.Market, traded []esa.PriceSize, now int64) {
	d := b.Def
	if !o.BSPReconciled && d.BspReconciled {
		if takesSP(o) {
			s.takeSP(o, b, b.PublishTime, now)
			return
		}
		o.BSPReconciled = true
	}
	if o.Type != engine.Limit {
		return
	}
	if s.model == Queue {
		s.queueCancels(o, b, traded)
	}
	if len(traded) > 0 {
		s.fillFromTraded(o, b.PublishTime, traded)
	}
	if d.Version != o.MarketVersion {
		o.MarketVersion = d.Version
		if esa.MarketStatus(d.Status) == esa.MarketSuspended && o.Persistence == engine.Lapse {
			o.SizeLapsed += o.SizeRemaining()
		}
	}
}

func takesSP(o *engine.OrderState) bool {
	return o.Type != engine.Limit || o.Persistence == engine.PersistMarketOnClose
}

// fillFromTraded is flumine's _process_traded: each traded price at or
// better than the order's counts half (Betfair's traded ladder counts both
// sides of a match), first against the queue ahead, then fills the order at
// its own price; what the order used is taken off the shared copy.
func (s *Sim) fillFromTraded(o *engine.OrderState, pt int64, traded []esa.PriceSize) {
	for i := range traded {
		t := &traded[i]
		if o.Side == engine.Back && t.Price < o.Price || o.Side == engine.Lay && t.Price > o.Price {
			continue
		}
		if s.model == Queue && t.Price != o.Price {
			// The market traded through the order's price: the queue at
			// its price went first.
			o.QueueAhead = 0
		}
		size := t.Size
		half := size / 2
		if o.QueueAhead-half < 0 {
			m := engine.Round2(math.Min(o.SizeRemaining(), half-o.QueueAhead))
			if m != 0 {
				o.AddFill(engine.Fill{Pt: pt, Price: o.Price, Size: m})
			}
			used := (o.QueueAhead + m) * 2
			o.QueueAhead = 0
			if used != 0 {
				t.Size = math.Max(size-used, 0)
			}
		} else {
			o.QueueAhead -= half
			if size != 0 {
				t.Size = 0
			}
		}
	}
}

// queueCancels (queue model) shrinks the queue ahead of a resting order by
// the cancellations at its price: the drop of the size shown there not
// explained by what traded there, spread evenly over the queue, and never
// more queue than is shown.
func (s *Sim) queueCancels(o *engine.OrderState, b *book.Market, traded []esa.PriceSize) {
	r := b.Runner(o.SelectionID, o.Handicap)
	if r == nil {
		return
	}
	opp := engine.Lay
	if o.Side == engine.Lay {
		opp = engine.Back
	}
	shown := 0.0
	for _, l := range engine.Available(r, opp, s.buf) {
		if l.Price == o.Price {
			shown = l.Size
			break
		}
	}
	before := s.shown[o]
	s.shown[o] = shown
	tradedHere := 0.0
	for _, t := range traded {
		if t.Price == o.Price {
			tradedHere = t.Size / 2
		}
	}
	if c := before - shown - tradedHere; c > 0 && before > 0 && o.QueueAhead > 0 {
		o.QueueAhead -= c * o.QueueAhead / before
	}
	o.QueueAhead = math.Max(math.Min(o.QueueAhead, shown), 0)
}

// takeSP settles an order that takes the starting price (flumine's
// _process_sp); without a usable SP it waits for the next book.
func (s *Sim) takeSP(o *engine.OrderState, b *book.Market, pt, now int64) {
	r := b.Runner(o.SelectionID, o.Handicap)
	if r == nil || r.Def == nil || !r.Def.HasBsp || math.IsNaN(r.Def.Bsp) || math.IsInf(r.Def.Bsp, 0) || r.Def.Bsp == 0 {
		return
	}
	sp := r.Def.Bsp
	o.BSPReconciled = true
	var size float64
	switch o.Type {
	case engine.Limit:
		if o.Side == engine.Back {
			size = o.SizeRemaining()
		} else {
			risk := (o.Price - 1) * o.SizeRemaining()
			if risk < MinBSPLiability {
				o.SizeLapsed += o.SizeRemaining()
				o.Complete(now)
				return
			}
			size = engine.Round2(risk / (sp - 1))
			o.SizeCancelled += engine.Round2(o.SizeRemaining() - size)
		}
	case engine.LimitOnClose:
		if o.Side == engine.Back && sp < o.Price || o.Side == engine.Lay && sp > o.Price {
			o.Complete(now)
			return
		}
		size = o.Liability
		if o.Side == engine.Lay {
			size = engine.Round2(o.Liability / (sp - 1))
		}
	case engine.MarketOnClose:
		size = o.Liability
		if o.Side == engine.Lay {
			size = engine.Round2(o.Liability / (sp - 1))
		}
	}
	o.AddFill(engine.Fill{Pt: pt, Price: sp, Size: size})
	o.Complete(now)
}

// remove applies a runner removal to every order of the market (flumine's
// _process_runner_removal): orders on the runner are voided; other orders'
// matched prices are reduced by the adjustment factor, and market-on-close
// lay liabilities scaled.
func (s *Sim) remove(b *book.Market, orders []*engine.OrderState, rm removal) {
	mtype := ""
	if b.Def != nil {
		mtype = b.Def.MarketType
	}
	for _, o := range orders {
		if o.SelectionID == rm.id && o.Handicap == rm.hc {
			o.Matched = o.Matched[:0]
			o.SizeMatched, o.AvgPriceMatched = 0, 0
			if o.Type == engine.Limit {
				o.SizeVoided = o.Size
			} else {
				o.SizeVoided = o.Liability
			}
			continue
		}
		if o.Type == engine.MarketOnClose && o.Side == engine.Lay {
			var mult float64
			switch mtype {
			case "WIN":
				own := 0.0
				if r := b.Runner(o.SelectionID, o.Handicap); r != nil && r.Def != nil {
					own = r.Def.AdjustmentFactor
				}
				mult = 1 - rm.af/(100-own)
			case "PLACE", "OTHER_PLACE":
				mult = (100 - rm.af) * 0.01
			default:
				continue
			}
			o.Liability *= mult
			if o.AvgPriceMatched != 0 {
				o.SizeMatched = engine.Round2(o.Liability / (o.AvgPriceMatched - 1))
			}
			continue
		}
		if rm.hasAF && rm.af >= MinReductionAdjustment {
			for i := range o.Matched {
				o.Matched[i].Price = math.Max(engine.Round2(o.Matched[i].Price*(1-rm.af/100)), 1.01)
			}
			_, o.AvgPriceMatched = engine.WAP(o.Matched)
		}
	}
}

// Settle implements engine.Execution (flumine's Blotter.process_closed_market
// and SimulatedOrder.profit).
func (s *Sim) Settle(b *book.Market, orders []*engine.OrderState) {
	winners := 0
	for _, r := range b.Runners {
		if r.Status() == esa.RunnerWinner {
			winners++
		}
	}
	d := b.Def
	n := 1
	if d != nil && d.NumberOfWinners == 1 && winners > 1 {
		n = winners
	}
	for _, o := range orders {
		r := b.Runner(o.SelectionID, o.Handicap)
		if r == nil {
			continue
		}
		o.RunnerStatus = r.Status()
		o.DeadHeat = n
		o.Profit = Profit(o, d)
	}
}

// Profit is an order's settled profit before commission, by flumine's
// rules, from its runner status, dead heat and matched size and price.
func Profit(o *engine.OrderState, d *esa.MarketDefinition) float64 {
	size, avg := o.SizeMatched, o.AvgPriceMatched
	back := o.Side == engine.Back
	if d != nil && d.MarketType == "EACH_WAY" && d.EachWayDivisor != 0 {
		win := size * (avg - 1)
		place := size * ((avg - 1) * (1 / d.EachWayDivisor))
		switch o.RunnerStatus {
		case esa.RunnerWinner:
			p := engine.Round2(win + place)
			if back {
				return p
			}
			return -p
		case esa.RunnerPlaced:
			if back {
				return engine.Round2(place - size)
			}
			return engine.Round2(size - place)
		case esa.RunnerLoser:
			m := engine.Round2(size * 2)
			if back {
				return -m
			}
			return m
		}
		return 0
	}
	switch o.RunnerStatus {
	case esa.RunnerWinner:
		n := float64(max(o.DeadHeat, 1))
		p := size / n * (avg - 1)
		if n == 2 {
			p -= size / n
		} else if n > 2 {
			p -= size * (n - 1) / n
		}
		if !back {
			p = -p
		}
		return engine.Round2(p)
	case esa.RunnerLoser:
		if back {
			return -size
		}
		return size
	}
	return 0
}
