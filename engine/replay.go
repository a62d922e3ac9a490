package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/tape"
)

// Config configures Replay.
type Config struct {
	// NewStrategy returns a fresh strategy instance; it is called once per
	// replayed market (or event, with EventGroup). NewStrategies, when set,
	// is used instead.
	NewStrategy func() (Strategy, error)
	// NewStrategies returns fresh instances of several strategies (or of
	// one strategy with different parameters) that share each market's
	// replay: its lines are read, decoded and applied to one book once, and
	// every instance sees that book with its own orders, limits, controls
	// and execution, as if it ran alone. It is called once per replayed
	// market (or event); the index of an instance in the slice is its
	// Slot in results.
	NewStrategies func() ([]Strategy, error)
	// NewExecution returns a fresh execution for one strategy instance in
	// one market.
	NewExecution func() Execution
	// Keep, when set, chooses the tapes to replay by name (a path, or
	// PATH:MEMBER in a tar); the others are skipped unread where the
	// source allows it.
	Keep func(tape string) bool
	// OnMarket, when set, receives each strategy instance's result and
	// orders in each market as soon as that market's replay is done, and
	// Result then holds only the totals: memory stays bounded by the
	// markets in flight, whatever the number of markets. Calls are
	// serialized, so it needs no locking; orders are in placement order.
	OnMarket func(m MarketResult, orders []*Order)
	// Workers is how many markets replay at once; 0 means all cores.
	Workers int
	// EventGroup replays the markets of one event together, merged by
	// publish time, through one strategy instance.
	EventGroup bool
	// Latency defaults to FlumineLatency when zero.
	Latency Latency
	// Commission is the rate charged on a market's positive profit.
	Commission float64
	// MinBet is the smallest bet the controls let through, in the
	// account's currency (MinBetFor gives Betfair's figures by currency);
	// zero fields take the GBP ones.
	MinBet MinBet
	// Cache chooses how total matched is computed.
	Cache book.Options
	// Log receives strategy panics and warnings about bad input; nil
	// discards them.
	Log *slog.Logger
	// Strict stops the replay at the first bad line, tape cut short or
	// unreadable input (see tape.Rules); otherwise they are reported and
	// skipped.
	Strict bool
	// Sources says how s3:// inputs are read.
	Sources tape.Sources
	// NewObserver, when set, returns an Observer for one replayed market
	// (or event, with EventGroup); nil records nothing and costs nothing.
	NewObserver func() Observer
}

// MarketResult is one market's outcome for one strategy instance.
type MarketResult struct {
	// Slot is the instance's index in Config.NewStrategies' slice (0 with
	// NewStrategy).
	Slot        int
	MarketID    string
	EventID     string
	MarketType  string
	Status      esa.MarketStatus // final status seen (CLOSED when settled)
	Orders      int
	Matched     int // orders with size matched > 0
	SizeMatched float64
	Profit      float64 // sum of matched orders' profit, rounded to 0.01
	Commission  float64
	Net         float64
	Updates     int64
	// StrategyErrors counts panics caught in the strategy's hooks.
	StrategyErrors int
}

// Result is what Replay produced: every order (by market id, slot, then
// order id), every market (by id, then slot) and the totals. With
// Config.OnMarket set, Orders and Markets stay empty.
type Result struct {
	Orders  []*Order
	Markets []MarketResult
	// Updates counts market changes replayed; BadLines lines that did not
	// decode (skipped).
	Updates  int64
	BadLines int64
	// StrategyErrors counts panics caught in hooks; Violations orders
	// stopped by controls.
	StrategyErrors int
	Violations     int
	// InputErrors lists inputs that could not be read.
	InputErrors []string
	Wall        time.Duration
	// Settlement is a live run's check of its profit against the
	// exchange's listClearedOrders; nil for other runs.
	Settlement *SettlementCheck
}

// Profit returns the total profit, commission and net of all markets.
func (r *Result) Profit() (profit, commission, net float64) {
	for _, m := range r.Markets {
		profit += m.Profit
		commission += m.Commission
		net += m.Net
	}
	return Round2(profit), Round2(commission), Round2(net)
}

// sort puts orders in market, instance, order-id order and markets in
// market, instance order: the order every driver returns them in, whatever
// order the markets finished in.
func (r *Result) sort() {
	sort.SliceStable(r.Orders, func(i, j int) bool {
		a, b := &r.Orders[i].s, &r.Orders[j].s
		if a.MarketID != b.MarketID {
			return a.MarketID < b.MarketID
		}
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		return a.ID < b.ID
	})
	sort.Slice(r.Markets, func(i, j int) bool {
		a, b := r.Markets[i], r.Markets[j]
		if a.MarketID != b.MarketID {
			return a.MarketID < b.MarketID
		}
		return a.Slot < b.Slot
	})
}

// SizeMatched returns the total size matched.
func (r *Result) SizeMatched() float64 {
	var s float64
	for _, m := range r.Markets {
		s += m.SizeMatched
	}
	return Round2(s)
}

// Replay runs the strategy over every tape of inputs (any pipeline input)
// with simulated execution. Each market is replayed on its own,
// deterministically, cfg.Workers at a time; with cfg.EventGroup the markets
// of one event are merged by publish time and replayed together.
func Replay(ctx context.Context, inputs []string, cfg Config) (*Result, error) {
	start := time.Now()
	if cfg.NewStrategy == nil && cfg.NewStrategies == nil || cfg.NewExecution == nil {
		return nil, fmt.Errorf("engine: Replay needs NewStrategy (or NewStrategies) and NewExecution")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Latency == (Latency{}) {
		cfg.Latency = FlumineLatency
	}
	var (
		mu  sync.Mutex
		res Result
	)
	emit := cfg.OnMarket
	if emit == nil {
		emit = func(m MarketResult, orders []*Order) {
			res.Markets = append(res.Markets, m)
			res.Orders = append(res.Orders, orders...)
		}
	}
	collect := func(u *unit) {
		mu.Lock()
		defer mu.Unlock()
		u.results(&res, emit)
	}
	rules := &tape.Rules{Strict: cfg.Strict, Log: cfg.Log}
	w := tape.NewWalker(cfg.Workers, rules, cfg.Sources)
	var err error
	if cfg.EventGroup {
		err = replayEvents(ctx, w, rules, inputs, &cfg, collect)
	} else {
		err = w.ForEach(ctx, inputs, func(ctx context.Context, t *tape.Tape) error {
			if cfg.Keep != nil && !cfg.Keep(t.Name) {
				return nil
			}
			u, err := newUnit(&cfg)
			if err != nil {
				return err
			}
			u.start()
			p, err := tape.Play(ctx, t, rules, func(l *tape.Line) error {
				u.message(l.Msg)
				return nil
			})
			if err != nil {
				return err
			}
			u.badLines += p.BadLines
			u.finish()
			collect(u)
			return nil
		})
	}
	for _, e := range rules.Unreadable() {
		res.InputErrors = append(res.InputErrors, e.Error())
	}
	if err == nil {
		// Every market that could be read has been replayed; a missing
		// input still fails the run.
		err = rules.Err()
	}
	res.sort()
	res.Wall = time.Since(start)
	return &res, err
}

// replayEvents reads every tape, groups them by event id and replays each
// group's lines merged by publish time (ties keep input order).
func replayEvents(ctx context.Context, w *tape.Walker, rules *tape.Rules, inputs []string, cfg *Config, collect func(*unit)) error {
	type tline struct {
		pt   int64
		tape int
		data []byte
	}
	type group struct {
		lines []tline
		names []string
		bad   int64
	}
	groups := map[string]*group{}
	var order []string
	tapeNo := 0
	err := w.Walk(ctx, inputs, func(ctx context.Context, t *tape.Tape) error {
		if cfg.Keep != nil && !cfg.Keep(t.Name) {
			return nil
		}
		var lines []tline
		event := ""
		// Bad lines are counted and left out here; the merged replay
		// decodes only good ones.
		p, err := tape.Play(ctx, t, rules, func(l *tape.Line) error {
			msg := l.Msg
			if event == "" {
				for i := range msg.MC {
					if d := msg.MC[i].Def; d != nil && d.EventID != "" {
						event = d.EventID
					}
				}
			}
			lines = append(lines, tline{msg.Pt, tapeNo, append([]byte(nil), l.Raw...)})
			return nil
		})
		if err != nil {
			return err
		}
		if event == "" {
			event = "tape:" + t.Name
		}
		g := groups[event]
		if g == nil {
			g = &group{}
			groups[event] = g
			order = append(order, event)
		}
		g.lines = append(g.lines, lines...)
		g.names = append(g.names, t.Name)
		g.bad += p.BadLines
		tapeNo++
		return nil
	})
	if err != nil {
		return err
	}
	jobs := make(chan *group)
	var wg sync.WaitGroup
	var firstErr error
	var emu sync.Mutex
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range jobs {
				sort.SliceStable(g.lines, func(i, j int) bool { return g.lines[i].pt < g.lines[j].pt })
				u, err := newUnit(cfg)
				if err != nil {
					emu.Lock()
					firstErr = err
					emu.Unlock()
					continue
				}
				u.badLines += g.bad
				u.start()
				for i, l := range g.lines {
					u.line(l.data, g.names[0], i+1)
				}
				u.finish()
				collect(u)
			}
		}()
	}
	for _, e := range order {
		select {
		case jobs <- groups[e]:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// unit is one replay of one market's (or one event's) lines: one book per
// market, through which every strategy instance (slot) runs with its own
// market state.
type unit struct {
	cfg   *Config
	slots []*slot
	lat   Latency
	cache *book.MarketCache
	obs   Observer
	// betting, when set, sends orders to the Betting API instead of
	// simulating them (live trading).
	bet *BettingConfig
	// adopted are the orders of earlier runs, by market, waiting for
	// their market's first book.
	adopted map[string][]betting.CurrentOrder
	dec     *esa.Decoder
	msg     esa.Message
	// markets holds, per market id, one state per slot (in slot order).
	markets map[string][]*marketState
	list    [][]*marketState
	// last is the market of the previous line: a tape holds one market,
	// so this saves a map lookup (and a string hash) per line.
	last []*marketState
	now  int64

	updates, badLines int64
}

// slot is one strategy instance of a unit and its counters.
type slot struct {
	idx    int
	strat  Strategy
	name   string
	ref    string // the strategy's customerStrategyRef
	limits Limits

	strategyErrs, violations int
}

type runnerKey struct {
	id int64
	hc float64
}

// runnerCtx counts a strategy's orders on one runner (flumine's
// RunnerContext).
type runnerCtx struct {
	key          runnerKey
	trades, live int
}

// marketState is everything the engine keeps about one market for one
// strategy instance; the book is shared by all instances.
type marketState struct {
	sl     *slot
	id     string
	bk     *book.Market
	x      Executor
	orders []*Order
	// states are the orders' ledgers, for the execution model.
	states []*OrderState
	live   []*Order
	// report applies an executor's report to this market's orders.
	report  func(Report)
	ctxs    []*runnerCtx
	nextID  int
	closed  bool
	updates int64
	// reports counts the executor's reports applied to the orders.
	reports int64
	errs    int
	// swept is what a Live run's stop last saw of the market (halt.go).
	swept sweepMark

	marketTimeRaw string
	marketTime    int64 // epoch µs
}

// ctx returns a runner's counters, creating them. A market has tens of
// runners at most: a linear scan beats hashing a float key.
func (st *marketState) ctx(id int64, hc float64) *runnerCtx {
	k := runnerKey{id, hc}
	for _, c := range st.ctxs {
		if c.key == k {
			return c
		}
	}
	c := &runnerCtx{key: k}
	st.ctxs = append(st.ctxs, c)
	return c
}

func newUnit(cfg *Config) (*unit, error) {
	var strats []Strategy
	if cfg.NewStrategies != nil {
		var err error
		if strats, err = cfg.NewStrategies(); err != nil {
			return nil, fmt.Errorf("engine: new strategies: %w", err)
		}
		if len(strats) == 0 {
			return nil, fmt.Errorf("engine: NewStrategies returned no strategy")
		}
	} else {
		s, err := cfg.NewStrategy()
		if err != nil {
			return nil, fmt.Errorf("engine: new strategy: %w", err)
		}
		strats = []Strategy{s}
	}
	u := &unit{cfg: cfg, lat: cfg.Latency, cache: book.NewMarketCache(cfg.Cache),
		markets: map[string][]*marketState{}}
	for i, s := range strats {
		sl := &slot{idx: i, strat: s, name: s.Name(), ref: StrategyRef(s.Name())}
		if l, ok := s.(Limited); ok {
			sl.limits = l.Limits()
		}
		u.slots = append(u.slots, sl)
	}
	if cfg.NewObserver != nil {
		u.obs = cfg.NewObserver()
	}
	return u, nil
}

// call runs one of sl's hooks, turning a panic into a logged, counted
// error so that the market's replay goes on.
func (u *unit) call(sl *slot, st *marketState, hook string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			sl.strategyErrs++
			id := ""
			if st != nil {
				st.errs++
				id = st.id
			}
			if u.cfg.Log != nil {
				u.cfg.Log.Error("strategy panic", "strategy", sl.name, "slot", sl.idx, "market", id, "hook", hook,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}
	}()
	fn()
}

func (u *unit) start() {
	for _, sl := range u.slots {
		u.call(sl, nil, "Start", sl.strat.Start)
	}
}

func (u *unit) finish() {
	for _, sl := range u.slots {
		u.call(sl, nil, "Finish", sl.strat.Finish)
	}
}

// line processes one tape line: due requests against the books as they
// stand, then the update, then each changed market's cycle.
func (u *unit) line(b []byte, tape string, n int) {
	if u.dec == nil {
		// Made on first use: a live or paper run's units are handed
		// messages its driver decoded, and 7 KiB a market adds up over
		// 1,000 of them.
		u.dec = esa.NewDecoder()
	}
	if err := u.dec.Decode(b, &u.msg); err != nil {
		u.badLines++
		if u.cfg.Log != nil {
			u.cfg.Log.Warn("bad line skipped", "tape", tape, "line", n, "err", err)
		}
		return
	}
	u.message(&u.msg)
}

// message processes one decoded stream message, from a tape or a live
// stream: due requests against the books as they stand, then the update,
// then each changed market's cycle.
func (u *unit) message(msg *esa.Message) {
	if msg.Op != esa.OpMCM || len(msg.MC) == 0 {
		return
	}
	u.now = msg.Pt
	for i := range msg.MC {
		for _, st := range u.lookup(msg.MC[i].ID) {
			if !st.closed {
				st.x.Advance(u.now, st.report)
			}
		}
	}
	for _, bk := range u.cache.Apply(msg) {
		u.updates++
		sts := u.lookup([]byte(bk.ID))
		isNew := sts == nil
		if isNew {
			sts = make([]*marketState, len(u.slots))
			for i, sl := range u.slots {
				sts[i] = u.newMarket(sl, bk)
			}
			u.markets[bk.ID] = sts
			u.list = append(u.list, sts)
			u.last = sts
		}
		// The observer sees each book once, whatever the number of
		// strategy instances; every instance closes with the book.
		if u.obs != nil && !sts[0].closed {
			u.obs.Book(bk, u.now)
		}
		for _, st := range sts {
			u.cycle(st, isNew)
		}
	}
}

// lookup returns the states of market id, nil when not seen yet.
func (u *unit) lookup(id []byte) []*marketState {
	if u.last != nil && u.last[0].id == string(id) {
		return u.last
	}
	sts := u.markets[string(id)] // does not allocate
	if sts != nil {
		u.last = sts
	}
	return sts
}

// cycle is flumine's per-book cycle for one market and one strategy
// instance.
func (u *unit) cycle(st *marketState, isNew bool) {
	if st.closed {
		return
	}
	bk, sl := st.bk, st.sl
	st.updates++
	m := &Market{st: st, u: u}
	if bk.Closed() {
		st.closed = true
		st.x.Settle(bk)
		for _, o := range st.orders {
			o.s.Settled = true
		}
		if u.bet != nil && u.bet.run != nil {
			u.bet.run.settled(u.marketResult(st).Net)
		}
		u.call(sl, st, "ProcessClosedMarket", func() { sl.strat.ProcessClosedMarket(m) })
		return
	}
	st.x.Observe(bk, u.now, st.report)
	if len(st.orders) > 0 {
		u.housekeep(st)
		u.call(sl, st, "ProcessOrders", func() { sl.strat.ProcessOrders(m, st.orders) })
	}
	if isNew {
		u.call(sl, st, "ProcessNewMarket", func() { sl.strat.ProcessNewMarket(m) })
	}
	var ok bool
	u.call(sl, st, "CheckMarketBook", func() { ok = sl.strat.CheckMarketBook(m) })
	if ok {
		u.call(sl, st, "ProcessMarketBook", func() { sl.strat.ProcessMarketBook(m) })
	}
	st.x.Flush()
}

// housekeep completes live orders with nothing left (flumine's
// _process_simulated_orders) and drops complete ones from the live list.
func (u *unit) housekeep(st *marketState) {
	live := st.live[:0]
	for _, o := range st.live {
		switch {
		case o.s.Status == ExecutionComplete || o.s.Status == Expired:
			u.completeNoted(st, o)
		case o.s.Status == Pending:
			live = append(live, o)
			continue
		case o.s.Type == Limit && o.SizeRemaining() == 0:
			u.completeNoted(st, o)
		case o.s.Type != Limit && o.s.BSPReconciled:
			u.completeNoted(st, o)
		default:
			live = append(live, o)
			continue
		}
	}
	clear(st.live[len(live):])
	st.live = live
}

// complete marks o complete and frees its live trade slot.
func (u *unit) complete(st *marketState, o *Order) {
	o.s.Complete(u.now)
	if o.holdsLive {
		o.holdsLive = false
		st.ctx(o.s.SelectionID, o.s.Handicap).live--
	}
}

// results adds the unit's counters to res and hands each strategy
// instance's market result and orders to emit.
func (u *unit) results(res *Result, emit func(MarketResult, []*Order)) {
	res.Updates += u.updates
	res.BadLines += u.badLines
	for _, sl := range u.slots {
		res.StrategyErrors += sl.strategyErrs
		res.Violations += sl.violations
	}
	for _, sts := range u.list {
		for _, st := range sts {
			emit(u.marketResult(st), st.orders)
		}
	}
}

// over reports whether the unit's market is over for every strategy
// instance: closed, and settled with no order still live, so that its
// rows can no longer change. A live or paper run hands such a market's
// results over at once, as a backtest does at the end of its tape.
func (u *unit) over() bool {
	if len(u.list) == 0 {
		return false
	}
	for _, sts := range u.list {
		for _, st := range sts {
			if !st.closed {
				return false
			}
			for _, o := range st.orders {
				if o.s.Status.Live() {
					return false
				}
			}
		}
	}
	return true
}

// marketResult totals one strategy instance's orders in one market.
func (u *unit) marketResult(st *marketState) MarketResult {
	mr := MarketResult{Slot: st.sl.idx, MarketID: st.id, Status: st.bk.Status(), Orders: len(st.orders), Updates: st.updates, StrategyErrors: st.errs}
	if d := st.bk.Def; d != nil {
		mr.EventID, mr.MarketType = d.EventID, d.MarketType
	}
	var p float64
	for _, o := range st.orders {
		if o.s.SizeMatched > 0 {
			mr.Matched++
			mr.SizeMatched += o.s.SizeMatched
			p += o.s.Profit
		}
	}
	mr.SizeMatched = Round2(mr.SizeMatched)
	mr.Profit = Round2(p)
	mr.Commission = Round2(max(mr.Profit*u.cfg.Commission, 0))
	mr.Net = Round2(mr.Profit - mr.Commission)
	return mr
}
