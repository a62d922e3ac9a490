package engine

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/journal"
)

// BettingConfig configures the executors that send orders to Betfair's
// Betting API (or a local exchange's) for live trading.
type BettingConfig struct {
	// Ctx bounds every request.
	Ctx    context.Context
	Client *betting.Client
	// Session is the run's token in customerRefs (RequestRef); Seq numbers
	// the run's requests, shared by every market.
	Session string
	Seq     *atomic.Uint64
	// Attempts is how many times a placement whose answer was lost is sent
	// (with its customerRef); default 3.
	Attempts int
	// Wake, when set, is called from a request's goroutine once its answer
	// waits: the driver then lets the loop take it (Advance).
	Wake func()
	Log  *slog.Logger
	// InFlight, when set, counts the requests sent and not yet answered,
	// so that a driver ending its run can wait for their answers.
	InFlight *sync.WaitGroup
	// OnWire, when set, is told for each request how long after the market
	// change that caused it (read off the stream's socket) its first copy
	// was written to the Betting API's connection: the engine's
	// tick-to-trade time, for metrics and scripts/bench.sh. It is called
	// from the request's goroutine. ChangeAt, set by the driver, says when
	// the change being handled was read.
	OnWire   func(sinceChange time.Duration)
	ChangeAt func() time.Time
	// MaxRequests bounds the requests on the wire at once; more wait
	// their turn in the order they were made. Default DefaultMaxRequests.
	MaxRequests int
	queue       *requestQueue
	// Journal, when set, records every request as it is sent, every
	// answer, and every change of an order's state (engine/journal).
	Journal  *journal.Journal
	journalW *journalWriter
	// SettleEvery and SettleWait pace the settlement check
	// (settlecheck.go): listClearedOrders is asked for a closed market
	// every SettleEvery until it lists every matched order, for at most
	// SettleWait. Defaults DefaultSettleEvery, DefaultSettleWait. The
	// check runs when the driver sets settlement and a model settles.
	SettleEvery, SettleWait time.Duration
	settlement              *SettlementCheck
	// settleEnd, when set, ends the settlement checks' waiting (the run
	// is stopping); Ctx still bounds each request.
	settleEnd context.Context
	// Async sends placements and replacements with Betfair's async flag:
	// the exchange answers at once with the order PENDING and no bet id,
	// and the order stream says what became of it (lower latency to the
	// answer; the bet id and fills come only from the stream).
	Async bool

	// run holds the run-wide controls, shared by every market (Live
	// sets it).
	run *runControls
}

// answer is what a request's goroutine brings back; the loop turns it into
// reports on its own goroutine (a replacement's new order is made there).
type answer struct {
	kind   RequestKind
	orders []*Order
	prices []float64 // replace: the new prices
	place  *betting.PlaceReport
	cancel *betting.CancelReport
	update *betting.UpdateReport
	repl   *betting.ReplaceReport
	// current is a lookup's answer (reconcile.go), cleared a settlement
	// check's (settlecheck.go).
	current []betting.CurrentOrder
	cleared []betting.ClearedOrder
	err     error
}

// bettingExecutor sends one strategy instance's requests in one market:
// what the loop submits during a cycle goes out at its end (Flush), one
// request per kind, placements in runs of 200 and the others of 60.
type bettingExecutor struct {
	cfg     *BettingConfig
	st      *marketState
	queue   []Request
	answers chan answer
	// settle, when set, settles the orders at the market's close by a
	// model's rules (only its Settle is used: the exchange matches).
	settle Execution
	// holds counts lookups after a fresh order-stream image not yet
	// answered: new exposure waits for them (reconcile.go).
	holds int
}

var _ Executor = (*bettingExecutor)(nil)

func newBettingExecutor(cfg *BettingConfig, st *marketState) *bettingExecutor {
	return &bettingExecutor{cfg: cfg, st: st, answers: make(chan answer, 64)}
}

func (x *bettingExecutor) Submit(r Request) {
	x.queue = append(x.queue, r)
	x.cfg.journalOrder(r.Order, nil)
}

// Flush sends what was submitted, through the run's request queue.
func (x *bettingExecutor) Flush() {
	if len(x.queue) == 0 {
		return
	}
	var place []placing
	var cancel, update, replace, held []Request
	for _, r := range x.queue {
		if x.holding(r) {
			held = append(held, r)
			continue
		}
		switch r.Kind {
		case PlaceRequest:
			place = append(place, placing{r.Order, instruction(r.Order)})
		case CancelRequest:
			cancel = append(cancel, r)
		case UpdateRequest:
			update = append(update, r)
		case ReplaceRequest:
			replace = append(replace, r)
		}
	}
	clear(x.queue)
	x.queue = append(x.queue[:0], held...)
	market, sref := x.st.id, x.st.sl.ref
	// marketVersion is a request's, not an instruction's: placements made
	// for different versions (or none) go in separate requests.
	for _, group := range byVersion(place) {
		var mv *betting.MarketVersion
		if v := group[0].Order.s.PlaceVersion; v != 0 {
			mv = &betting.MarketVersion{Version: v}
		}
		for _, b := range betting.Batches(group, betting.MaxPlaceInstructions) {
			req := betting.PlaceRequest{MarketID: market, CustomerRef: x.ref(), CustomerStrategyRef: sref, MarketVersion: mv, Async: x.cfg.Async}
			orders := make([]*Order, len(b))
			for i, p := range b {
				orders[i] = p.Order
				req.Instructions = append(req.Instructions, p.Instruction)
			}
			x.send(betting.MethodPlaceOrders, req.CustomerRef, req, func(ctx context.Context) answer {
				rep, err := x.cfg.Client.PlaceResolved(ctx, req, max(x.cfg.Attempts, 3))
				return answer{kind: PlaceRequest, orders: orders, place: rep, err: err}
			})
		}
	}
	for _, b := range betting.Batches(cancel, betting.MaxCancelInstructions) {
		req := betting.CancelRequest{MarketID: market, CustomerRef: x.ref()}
		orders := make([]*Order, len(b))
		for i, r := range b {
			orders[i] = r.Order
			req.Instructions = append(req.Instructions, betting.CancelInstruction{BetID: r.Order.s.BetID, SizeReduction: r.SizeReduction})
		}
		x.send(betting.MethodCancelOrders, req.CustomerRef, req, func(ctx context.Context) answer {
			rep, err := x.cfg.Client.CancelOrders(ctx, req)
			return answer{kind: CancelRequest, orders: orders, cancel: rep, err: err}
		})
	}
	for _, b := range betting.Batches(update, betting.MaxUpdateInstructions) {
		req := betting.UpdateRequest{MarketID: market, CustomerRef: x.ref()}
		orders := make([]*Order, len(b))
		for i, r := range b {
			orders[i] = r.Order
			req.Instructions = append(req.Instructions, betting.UpdateInstruction{BetID: r.Order.s.BetID, NewPersistenceType: r.Persistence.String()})
		}
		x.send(betting.MethodUpdateOrders, req.CustomerRef, req, func(ctx context.Context) answer {
			rep, err := x.cfg.Client.UpdateOrders(ctx, req)
			return answer{kind: UpdateRequest, orders: orders, update: rep, err: err}
		})
	}
	for _, b := range betting.Batches(replace, betting.MaxReplaceInstructions) {
		req := betting.ReplaceRequest{MarketID: market, CustomerRef: x.ref(), Async: x.cfg.Async}
		orders := make([]*Order, len(b))
		prices := make([]float64, len(b))
		for i, r := range b {
			orders[i], prices[i] = r.Order, r.Price
			req.Instructions = append(req.Instructions, betting.ReplaceInstruction{BetID: r.Order.s.BetID, NewPrice: r.Price})
		}
		x.send(betting.MethodReplaceOrders, req.CustomerRef, req, func(ctx context.Context) answer {
			rep, err := x.cfg.Client.ReplaceOrders(ctx, req)
			return answer{kind: ReplaceRequest, orders: orders, prices: prices, repl: rep, err: err}
		})
	}
}

// placing pairs an order with the instruction that places it.
type placing struct {
	Order       *Order
	Instruction betting.PlaceInstruction
}

// byVersion splits placements by the market version they were made for,
// keeping their order within each group and the groups in order of first
// appearance.
func byVersion(place []placing) [][]placing {
	var out [][]placing
	at := map[int64]int{}
	for _, p := range place {
		v := p.Order.s.PlaceVersion
		i, ok := at[v]
		if !ok {
			i = len(out)
			at[v] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], p)
	}
	return out
}

func (x *bettingExecutor) ref() string {
	return RequestRef(x.cfg.Session, x.cfg.Seq.Add(1))
}

// send queues one request (method, with its customerRef and parameters,
// for the journal) and brings its answer back to the loop.
func (x *bettingExecutor) send(method, ref string, params any, call func(context.Context) answer) {
	if x.cfg.InFlight != nil {
		x.cfg.InFlight.Add(1)
	}
	ctx := x.cfg.Ctx
	if x.cfg.OnWire != nil && x.cfg.ChangeAt != nil {
		at, once := x.cfg.ChangeAt(), new(sync.Once)
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
			// A resent placement writes again; the first write is the one
			// the change caused.
			once.Do(func() { x.cfg.OnWire(time.Since(at)) })
		}})
	}
	x.cfg.requests().run(func() {
		if x.cfg.InFlight != nil {
			defer x.cfg.InFlight.Done()
		}
		x.cfg.journalRequest(method, x.st.id, ref, params)
		a := call(ctx)
		x.cfg.journalAnswer(method, x.st.id, ref, &a)
		x.hand(a)
	})
}

// hand gives an answer to the loop: it waits in the executor, and Wake
// lets the driver have the loop take it. Called from a request's goroutine.
func (x *bettingExecutor) hand(a answer) {
	x.answers <- a
	if x.cfg.Wake != nil {
		x.cfg.Wake()
	}
}

// instruction is the placeOrders instruction of an order.
func instruction(o *Order) betting.PlaceInstruction {
	s := &o.s
	in := betting.PlaceInstruction{OrderType: s.Type.String(), SelectionID: s.SelectionID, Handicap: s.Handicap,
		Side: s.Side.String(), CustomerOrderRef: s.CustomerRef}
	switch s.Type {
	case Limit:
		lo := &betting.LimitOrder{Size: s.Size, Price: s.Price, PersistenceType: s.Persistence.String(), MinFillSize: s.MinFillSize}
		if s.FillOrKill {
			lo.TimeInForce, lo.PersistenceType = "FILL_OR_KILL", ""
		}
		in.LimitOrder = lo
	case LimitOnClose:
		in.LimitOnCloseOrder = &betting.LimitOnCloseOrder{Liability: s.Liability, Price: s.Price}
	case MarketOnClose:
		in.MarketOnCloseOrder = &betting.MarketOnCloseOrder{Liability: s.Liability}
	}
	return in
}

// Advance delivers every answer that has arrived, on the loop's goroutine.
func (x *bettingExecutor) Advance(now int64, report func(Report)) {
	for {
		select {
		case a := <-x.answers:
			x.deliver(a, now, report)
		default:
			return
		}
	}
}

// Observe delivers answers too: the exchange matches, the engine does not.
func (x *bettingExecutor) Observe(_ *book.Market, now int64, report func(Report)) {
	x.Advance(now, report)
}

// Settle settles the orders by the rules of the execution model the
// driver was given (Config.NewExecution), as a backtest does, from the
// market's closing definition: runner status, dead heat, profit. The
// exchange's own settlement (listClearedOrders) is what is paid; this is
// the engine's account of it, written with the results and checked
// against the exchange's (settlecheck.go). Without a model the orders
// stay unsettled.
func (x *bettingExecutor) Settle(b *book.Market) {
	if x.settle != nil {
		x.settle.Settle(b, x.st.states)
		x.checkSettlement()
	}
}

// deliver turns an answer into reports. Sizes are never taken from an
// answer: only the exchange's cumulative views (the order stream) set
// them, so an answer overtaken by the stream cannot count twice.
func (x *bettingExecutor) deliver(a answer, now int64, report func(Report)) {
	switch a.kind {
	case lookupRequest:
		x.looked(a, now, report)
		return
	case clearedRequest:
		x.compareSettlement(a)
		return
	}
	if a.err != nil && errors.Is(a.err, betting.ErrOutcomeUnknown) {
		for _, o := range a.orders {
			report(Report{Kind: NoAnswer, Order: o, At: now, Request: a.kind})
		}
		return
	}
	code := betting.ErrorCode(a.err)
	failed := map[RequestKind]ReportKind{PlaceRequest: PlaceFailed, CancelRequest: CancelFailed, UpdateRequest: UpdateFailed, ReplaceRequest: ReplaceFailed}[a.kind]
	ok := map[RequestKind]ReportKind{PlaceRequest: Placed, CancelRequest: Cancelled, UpdateRequest: Updated}[a.kind]
	for i, o := range a.orders {
		var status string
		var icode betting.InstructionErrorCode
		switch {
		case a.place != nil && i < len(a.place.InstructionReports):
			ir := a.place.InstructionReports[i]
			status, icode = ir.Status, ir.ErrorCode
			if a.err == nil && ir.Status == "SUCCESS" {
				switch {
				case ir.BetID == "" && ir.OrderStatus == "PENDING":
					// An async placement accepted: it stays PENDING until
					// the order stream tells its bet id and fate.
				case ir.BetID == "":
					// Placed, bet id not known yet: the order stream tells.
					report(Report{Kind: NoAnswer, Order: o, At: now, Request: PlaceRequest})
				default:
					report(Report{Kind: Placed, Order: o, At: now, BetID: ir.BetID})
				}
				continue
			}
		case a.cancel != nil && i < len(a.cancel.InstructionReports):
			status, icode = a.cancel.InstructionReports[i].Status, a.cancel.InstructionReports[i].ErrorCode
		case a.update != nil && i < len(a.update.InstructionReports):
			status, icode = a.update.InstructionReports[i].Status, a.update.InstructionReports[i].ErrorCode
		case a.repl != nil && i < len(a.repl.InstructionReports):
			ir := a.repl.InstructionReports[i]
			status, icode = ir.Status, ir.ErrorCode
			if a.err == nil && ir.Status == "SUCCESS" && ir.PlaceInstructionReport != nil {
				// The new bet is a new order of the strategy, made here on
				// the loop's goroutine.
				n := &Order{s: OrderState{ID: x.st.nextID, Slot: o.s.Slot, Strategy: o.s.Strategy, MarketID: o.s.MarketID,
					SelectionID: o.s.SelectionID, Handicap: o.s.Handicap, Side: o.s.Side, Type: Limit, Price: a.prices[i],
					Size: ir.PlaceInstructionReport.Instruction.LimitSize(), Persistence: o.s.Persistence, CreatedAt: now, DeadHeat: 1, Status: Pending}}
				n.s.CustomerRef = OrderRef(x.st.sl.ref, n.s.ID)
				report(Report{Kind: Replaced, Order: o, At: now, New: n, BetID: ir.PlaceInstructionReport.BetID})
				continue
			}
		}
		if a.err == nil && status == "SUCCESS" {
			report(Report{Kind: ok, Order: o, At: now})
			continue
		}
		c := code
		if icode != "" && icode != betting.InstrErrorInOrder {
			c = string(icode)
		}
		report(Report{Kind: failed, Order: o, At: now, ErrorCode: c})
	}
}
