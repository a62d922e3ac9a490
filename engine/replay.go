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

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/pipeline"
)

// Config configures Replay.
type Config struct {
	// NewStrategy returns a fresh strategy instance; it is called once per
	// replayed market (or event, with EventGroup).
	NewStrategy func() (Strategy, error)
	// NewExecution returns a fresh execution for one market.
	NewExecution func() Execution
	// Workers is how many markets replay at once; 0 means all cores.
	Workers int
	// EventGroup replays the markets of one event together, merged by
	// publish time, through one strategy instance.
	EventGroup bool
	// Latency defaults to FlumineLatency when zero.
	Latency Latency
	// Commission is the rate charged on a market's positive profit.
	Commission float64
	// Cache chooses how total matched is computed.
	Cache book.Options
	// Log receives strategy panics and bad lines; nil discards them.
	Log *slog.Logger
}

// MarketResult is one market's outcome for the strategy.
type MarketResult struct {
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

// Result is what Replay produced: every order (by market id, then order
// id), every market (by id) and the totals.
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
	if cfg.NewStrategy == nil || cfg.NewExecution == nil {
		return nil, fmt.Errorf("engine: Replay needs NewStrategy and NewExecution")
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
	collect := func(u *unit) {
		mu.Lock()
		defer mu.Unlock()
		u.results(&res)
	}
	w := &pipeline.Walker{Workers: cfg.Workers, OnError: func(err error) error {
		mu.Lock()
		res.InputErrors = append(res.InputErrors, err.Error())
		mu.Unlock()
		if cfg.Log != nil {
			cfg.Log.Warn("input skipped", "err", err)
		}
		return nil
	}}
	var err error
	if cfg.EventGroup {
		err = replayEvents(ctx, w, inputs, &cfg, collect)
	} else {
		err = w.ForEach(ctx, inputs, func(ctx context.Context, t *pipeline.Tape) error {
			u, err := newUnit(&cfg)
			if err != nil {
				return err
			}
			lr, err := t.Lines()
			if err != nil {
				return err
			}
			defer lr.Close()
			u.start()
			for lr.Next() {
				u.line(lr.Bytes(), t.Name, lr.Line())
				if lr.Line()&4095 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
			}
			u.finish()
			collect(u)
			if err := lr.Err(); err != nil && cfg.Log != nil {
				cfg.Log.Warn("tape cut short", "tape", t.Name, "err", err)
			}
			return nil
		})
	}
	sort.SliceStable(res.Orders, func(i, j int) bool {
		a, b := &res.Orders[i].s, &res.Orders[j].s
		if a.MarketID != b.MarketID {
			return a.MarketID < b.MarketID
		}
		return a.ID < b.ID
	})
	sort.Slice(res.Markets, func(i, j int) bool { return res.Markets[i].MarketID < res.Markets[j].MarketID })
	res.Wall = time.Since(start)
	return &res, err
}

// replayEvents reads every tape, groups them by event id and replays each
// group's lines merged by publish time (ties keep input order).
func replayEvents(ctx context.Context, w *pipeline.Walker, inputs []string, cfg *Config, collect func(*unit)) error {
	type tline struct {
		pt   int64
		tape int
		data []byte
	}
	type group struct {
		lines []tline
		names []string
	}
	groups := map[string]*group{}
	var order []string
	dec := esa.NewDecoder()
	var msg esa.Message
	tapeNo := 0
	err := w.Walk(ctx, inputs, func(ctx context.Context, t *pipeline.Tape) error {
		lr, err := t.Lines()
		if err != nil {
			return err
		}
		defer lr.Close()
		var lines []tline
		event := ""
		for lr.Next() {
			b := append([]byte(nil), lr.Bytes()...)
			var pt int64
			if dec.Decode(b, &msg) == nil {
				pt = msg.Pt
				if event == "" {
					for i := range msg.MC {
						if d := msg.MC[i].Def; d != nil && d.EventID != "" {
							event = d.EventID
						}
					}
				}
			}
			lines = append(lines, tline{pt, tapeNo, b})
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
		tapeNo++
		return lr.Err()
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

// unit is one replay: one strategy instance over one market's (or one
// event's) lines.
type unit struct {
	cfg     *Config
	strat   Strategy
	name    string
	ref     string // the strategy's customerStrategyRef
	limits  Limits
	lat     Latency
	cache   *book.MarketCache
	dec     *esa.Decoder
	msg     esa.Message
	markets map[string]*marketState
	list    []*marketState
	// last is the market of the previous line: a tape holds one market,
	// so this saves a map lookup (and a string hash) per line.
	last *marketState
	now  int64

	updates, badLines        int64
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

// marketState is everything the engine keeps about one market.
type marketState struct {
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
	errs    int

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
	s, err := cfg.NewStrategy()
	if err != nil {
		return nil, fmt.Errorf("engine: new strategy: %w", err)
	}
	u := &unit{cfg: cfg, strat: s, name: s.Name(), ref: StrategyRef(s.Name()), lat: cfg.Latency,
		cache: book.NewMarketCache(cfg.Cache), dec: esa.NewDecoder(), markets: map[string]*marketState{}}
	if l, ok := s.(Limited); ok {
		u.limits = l.Limits()
	}
	return u, nil
}

// call runs one hook, turning a panic into a logged, counted error so that
// the market's replay goes on.
func (u *unit) call(st *marketState, hook string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			u.strategyErrs++
			id := ""
			if st != nil {
				st.errs++
				id = st.id
			}
			if u.cfg.Log != nil {
				u.cfg.Log.Error("strategy panic", "strategy", u.name, "market", id, "hook", hook,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}
	}()
	fn()
}

func (u *unit) start()  { u.call(nil, "Start", u.strat.Start) }
func (u *unit) finish() { u.call(nil, "Finish", u.strat.Finish) }

// line processes one tape line: due requests against the books as they
// stand, then the update, then each changed market's cycle.
func (u *unit) line(b []byte, tape string, n int) {
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
		if st := u.lookup(msg.MC[i].ID); st != nil && !st.closed {
			st.x.Advance(u.now, st.report)
		}
	}
	for _, bk := range u.cache.Apply(msg) {
		u.updates++
		u.cycle(bk)
	}
}

// lookup returns the state of market id, nil when not seen yet.
func (u *unit) lookup(id []byte) *marketState {
	if u.last != nil && u.last.id == string(id) {
		return u.last
	}
	st := u.markets[string(id)] // does not allocate
	if st != nil {
		u.last = st
	}
	return st
}

// cycle is flumine's per-book cycle for one market.
func (u *unit) cycle(bk *book.Market) {
	st := u.lookup([]byte(bk.ID))
	isNew := st == nil
	if isNew {
		st = u.newMarket(bk)
		u.markets[bk.ID] = st
		u.list = append(u.list, st)
		u.last = st
	}
	if st.closed {
		return
	}
	st.updates++
	m := &Market{st: st, u: u}
	if bk.Closed() {
		st.closed = true
		st.x.Settle(bk)
		for _, o := range st.orders {
			o.s.Settled = true
		}
		u.call(st, "ProcessClosedMarket", func() { u.strat.ProcessClosedMarket(m) })
		return
	}
	st.x.Observe(bk, u.now, st.report)
	if len(st.orders) > 0 {
		u.housekeep(st)
		u.call(st, "ProcessOrders", func() { u.strat.ProcessOrders(m, st.orders) })
	}
	if isNew {
		u.call(st, "ProcessNewMarket", func() { u.strat.ProcessNewMarket(m) })
	}
	var ok bool
	u.call(st, "CheckMarketBook", func() { ok = u.strat.CheckMarketBook(m) })
	if ok {
		u.call(st, "ProcessMarketBook", func() { u.strat.ProcessMarketBook(m) })
	}
}

// housekeep completes live orders with nothing left (flumine's
// _process_simulated_orders) and drops complete ones from the live list.
func (u *unit) housekeep(st *marketState) {
	live := st.live[:0]
	for _, o := range st.live {
		switch {
		case o.s.Status == ExecutionComplete || o.s.Status == Expired:
			u.complete(st, o)
		case o.s.Status == Pending:
			live = append(live, o)
			continue
		case o.s.Type == Limit && o.SizeRemaining() == 0:
			u.complete(st, o)
		case o.s.Type != Limit && o.s.BSPReconciled:
			u.complete(st, o)
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

// results adds the unit's orders and markets to res.
func (u *unit) results(res *Result) {
	res.Updates += u.updates
	res.BadLines += u.badLines
	res.StrategyErrors += u.strategyErrs
	res.Violations += u.violations
	for _, st := range u.list {
		mr := MarketResult{MarketID: st.id, Status: st.bk.Status(), Orders: len(st.orders), Updates: st.updates, StrategyErrors: st.errs}
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
		res.Markets = append(res.Markets, mr)
		res.Orders = append(res.Orders, st.orders...)
	}
}
