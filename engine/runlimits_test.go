package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// limitedMarket is the market the run-wide controls are tested on.
const limitedMarket = "1.197931750"

// liveOn runs engine.Live with the strategy new makes on a local exchange
// taking bets (trade serve --betting, real TLS) replaying the shared
// stream of one market, until that market closes, and returns the result,
// the exchange (for its counters) and a client of it (for its ledger).
// set adjusts the exchange's and the run's configuration; dry makes the
// betting client a dry run's.
func liveOn(t *testing.T, newStrategy func() engine.Strategy, dry bool, set func(*exchange.Config, *engine.LiveConfig)) (*engine.Result, *exchange.Exchange, *betting.Client) {
	t.Helper()
	return liveUntil(t, newStrategy, dry, nil, set)
}

// liveUntil is liveOn whose run's context ends when stop is closed (the
// run then stops instead of ending with its market).
func liveUntil(t *testing.T, newStrategy func() engine.Strategy, dry bool, stop <-chan struct{}, set func(*exchange.Config, *engine.LiveConfig)) (*engine.Result, *exchange.Exchange, *betting.Client) {
	t.Helper()
	xc := exchange.Config{Tapes: []string{testenv.Shared(t, "data/streams/"+limitedMarket)}, Betting: ledger.New(ledger.Config{}), Lockstep: true}
	lc := engine.LiveConfig{
		Config:    engine.Config{NewStrategy: func() (engine.Strategy, error) { return newStrategy(), nil }, NewExecution: sim.NewExecution(sim.Flumine)},
		MarketIDs: []string{limitedMarket},
		Lockstep:  true,
		// A fixed clock: no test straddles an hour or a second.
		Limits: engine.RunLimits{Now: func() time.Time { return time.Date(2026, 12, 4, 21, 30, 0, 0, time.UTC) }},
	}
	set(&xc, &lc)
	ex, err := exchange.New(xc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sctx, unserve := context.WithCancel(context.Background()) // served until the test has read the ledger
	served := make(chan error, 1)
	go func() { served <- ex.Serve(sctx) }()
	t.Cleanup(func() { unserve(); <-served })
	info := ex.Info()
	bc, err := betting.New(betting.Config{Endpoints: betting.Local(info.Identity, info.Betting, info.Stream), AppKey: "controls-test",
		Username: "local", Password: "local", CAFile: ex.CAFile(), DryRun: dry, Logger: lc.Log})
	if err != nil {
		t.Fatal(err)
	}
	if err := bc.Login(ctx); err != nil {
		t.Fatal(err)
	}
	lc.Betting.Client, lc.Betting.Session = bc, "ctl"
	lc.Stream = esa.ClientConfig{Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "controls-test", Session: bc.SessionToken,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Market: &esa.MarketSubscription{MarketFilter: &esa.MarketFilter{MarketIDs: lc.MarketIDs},
			MarketDataFilter: &esa.MarketDataFilter{Fields: esa.AllMarketDataFields}},
		Order: &esa.OrderSubscription{}}
	run := ctx
	if stop != nil {
		var end context.CancelFunc
		run, end = context.WithCancel(ctx)
		defer end()
		go func() {
			select {
			case <-stop:
				end()
			case <-run.Done():
			}
		}()
	}
	res, err := engine.Live(run, lc)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run did not end when its market closed, nor stop when asked")
	}
	return res, ex, bc
}

// layer lays its first active runner at 1.01 (which does not match) on
// each book of an OPEN market, up to tries times, one order at a time;
// with cancel it cancels each order once it is on the exchange. halt,
// when set, is called once its orders on the exchange reach haltAt.
type layer struct {
	engine.BaseStrategy
	tries, haltAt int
	cancel        bool
	halt          func()
	last          *engine.Order
	many          bool // place on every book, not one order at a time
}

func (*layer) Name() string                          { return "controls-test" }
func (*layer) CheckMarketBook(m *engine.Market) bool { return m.Status() == esa.MarketOpen }
func (l *layer) ProcessMarketBook(m *engine.Market) {
	if l.halt != nil {
		n := 0
		for _, o := range m.Orders() {
			if o.BetID() != "" {
				n++
			}
		}
		if n >= l.haltAt {
			l.halt()
			l.halt = nil
		}
	}
	if o := l.last; o != nil && !l.many {
		if o.Status() == engine.Executable && l.cancel {
			m.Cancel(o, 0)
			return
		}
		if o.Status().Live() {
			return
		}
	}
	if l.tries == 0 {
		return
	}
	for _, r := range m.Runners() {
		if r.Status() == esa.RunnerActive {
			l.tries--
			l.last = m.PlaceLimit(r.SelectionID, r.Handicap, engine.Lay, 1.01, 2)
			return
		}
	}
}

// cleared is every bet of the exchange's ledger once its market has
// settled, by market and customerOrderRef (betRef), each under its outcome (a bet matched in
// part is under SETTLED and under CANCELLED or LAPSED: the later wins).
func cleared(t *testing.T, bc *betting.Client) map[string]betting.ClearedOrder {
	t.Helper()
	out := map[string]betting.ClearedOrder{}
	for _, status := range []string{"SETTLED", "VOIDED", "LAPSED", "CANCELLED"} {
		rows, err := bc.ListClearedOrders(context.Background(), betting.ClearedOrdersFilter{BetStatus: status})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			r.BetOutcome = status
			out[r.MarketID+"/"+r.CustomerOrderRef] = r
		}
	}
	return out
}

// betRef is an order's key in cleared: customerOrderRefs are numbered
// per market.
func betRef(o *engine.Order) string { return o.MarketID() + "/" + o.CustomerRef() }

// TestTransactionLimit: at the run's transaction limit, placements are
// refused (VIOLATION with the reason, never sent) and cancels still go.
func TestTransactionLimit(t *testing.T) {
	res, ex, bc := liveOn(t, func() engine.Strategy { return &layer{tries: 6, cancel: true} }, false, func(_ *exchange.Config, lc *engine.LiveConfig) {
		lc.Limits.MaxTransactionsPerHour = 3
	})
	var placed, refused []*engine.Order
	for _, o := range res.Orders {
		if o.Status() == engine.Violation {
			refused = append(refused, o)
		} else {
			placed = append(placed, o)
		}
	}
	if len(placed) != 3 || len(refused) != 3 {
		t.Fatalf("%d orders placed, %d refused; want 3 and 3", len(placed), len(refused))
	}
	for _, o := range refused {
		if !strings.Contains(o.Violation(), "transactions this hour 3 reached the limit 3") {
			t.Errorf("order %d refused for %q", o.ID(), o.Violation())
		}
	}
	// Each placement was cancelled, the last after the limit was reached:
	// the exchange holds every placed bet, each cancelled in full.
	if last := placed[2]; last.CompletedAt() < refused[0].CreatedAt() {
		t.Errorf("the last placement completed at %d, before the first refusal at %d", last.CompletedAt(), refused[0].CreatedAt())
	}
	ledger := cleared(t, bc)
	if len(ledger) != 3 {
		t.Errorf("the exchange holds %d bets, want the 3 placed", len(ledger))
	}
	for _, o := range placed {
		b, ok := ledger[betRef(o)]
		if !ok || b.BetOutcome != "CANCELLED" || b.SizeCancelled != 2 || o.SizeCancelled() != 2 || o.Status() != engine.ExecutionComplete {
			t.Errorf("order %s: engine %s cancelled %g; exchange %+v", o.CustomerRef(), o.Status(), o.SizeCancelled(), b)
		}
	}
	if n := ex.Stats().OrderRequests; n != 6 {
		t.Errorf("%d order requests reached the exchange, want 3 placements and 3 cancels", n)
	}
}

// TestKillSwitch: once the kill switch is thrown, nothing more is placed
// and every unmatched order is cancelled; only cancels reach the exchange.
func TestKillSwitch(t *testing.T) {
	kill := make(chan struct{})
	res, _, bc := liveOn(t, func() engine.Strategy {
		return &layer{tries: 20, many: true, haltAt: 3, halt: func() { close(kill) }}
	}, false, func(_ *exchange.Config, lc *engine.LiveConfig) { lc.Halt = kill })
	ledger := cleared(t, bc)
	var sent, halted int
	for _, o := range res.Orders {
		if o.Status() == engine.Violation {
			halted++
			if o.Violation() != "halted: kill switch" {
				t.Errorf("order %d refused for %q", o.ID(), o.Violation())
			}
			if _, ok := ledger[betRef(o)]; ok {
				t.Errorf("order %d was refused, yet the exchange has it", o.ID())
			}
			continue
		}
		sent++
		b, ok := ledger[betRef(o)]
		if !ok || b.BetOutcome != "CANCELLED" || b.SizeCancelled != 2 || o.Status() != engine.ExecutionComplete || o.SizeCancelled() != 2 {
			t.Errorf("order %s: engine %s cancelled %g; exchange %+v", o.CustomerRef(), o.Status(), o.SizeCancelled(), b)
		}
	}
	if sent < 3 || halted == 0 || sent+halted != 20 {
		t.Errorf("%d orders sent, %d refused after the kill switch; want at least 3 and some", sent, halted)
	}
	if len(ledger) != sent {
		t.Errorf("the exchange holds %d bets, the engine sent %d", len(ledger), sent)
	}
}

// TestNothingPlacedWhileStreamDown: the stream's connection drops while
// the strategy places on every book; after the reconnection the market's
// data is back before the order stream's, and a placement in that gap is
// refused and never sent. Placements go again once both are back.
func TestNothingPlacedWhileStreamDown(t *testing.T) {
	res, ex, bc := liveOn(t, func() engine.Strategy { return &layer{tries: 30, many: true} }, false, func(xc *exchange.Config, _ *engine.LiveConfig) {
		xc.Faults.DropAfter = 20
	})
	if ex.Stats().Dropped != 1 {
		t.Fatalf("%d connections dropped, want 1", ex.Stats().Dropped)
	}
	ledger := cleared(t, bc)
	down, after := 0, 0
	for _, o := range res.Orders {
		_, onExchange := ledger[betRef(o)]
		switch {
		case o.Status() == engine.Violation:
			if !strings.Contains(o.Violation(), "stream is down") {
				t.Errorf("order %d refused for %q", o.ID(), o.Violation())
			}
			if onExchange {
				t.Errorf("order %d was refused, yet the exchange has it", o.ID())
			}
			down++
		case !onExchange:
			t.Errorf("order %d (%s) is not on the exchange", o.ID(), o.Status())
		case down > 0:
			after++
		}
	}
	t.Logf("%d placements refused while the stream was down, %d placed after", down, after)
	if down == 0 || after == 0 {
		t.Errorf("%d placements refused while the stream was down, %d placed after; want some of each", down, after)
	}
}

// TestDryRun: a dry run trades as usual but sends no order request; each
// is logged as it would have been sent, and each placement completes
// unmatched with the error code DRY_RUN.
func TestDryRun(t *testing.T) {
	var logged bytes.Buffer
	res, ex, _ := liveOn(t, func() engine.Strategy { return &layer{tries: 3, many: true} }, true, func(_ *exchange.Config, lc *engine.LiveConfig) {
		lc.Log = slog.New(slog.NewJSONHandler(&logged, nil))
	})
	if n := ex.Stats().OrderRequests; n != 0 {
		t.Errorf("%d order requests reached the exchange", n)
	}
	if ex.Stats().BettingRequests == 0 {
		t.Error("not even listCurrentOrders was asked: reads must still go")
	}
	if len(res.Orders) != 3 {
		t.Fatalf("%d orders, want 3", len(res.Orders))
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	var sent []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "dry run: order request not sent" {
			sent = append(sent, m)
		}
	}
	// Placements made while an earlier one in the market is on its way go
	// together in one request: 3 orders make 1 to 3 requests, which hold
	// 3 instructions.
	instructions := 0
	for _, m := range sent {
		ins, _ := m["instructions"].(string)
		instructions += strings.Count(ins, `"customerOrderRef":`)
	}
	if len(sent) == 0 || len(sent) > 3 || instructions != 3 {
		t.Fatalf("%d dry-run requests logged with %d instructions, want 1 to 3 with 3:\n%s", len(sent), instructions, logged.String())
	}
	for i, o := range res.Orders {
		if o.Status() != engine.ExecutionComplete || o.ErrorCode() != "DRY_RUN" || o.SizeMatched() != 0 || o.BetID() != "" {
			t.Errorf("order %d: %s code %q matched %g bet %q", i, o.Status(), o.ErrorCode(), o.SizeMatched(), o.BetID())
		}
		// Requests go from their own goroutines: found by reference.
		found := false
		for _, m := range sent {
			ins, _ := m["instructions"].(string)
			if strings.Contains(ins, `"customerOrderRef":"`+o.CustomerRef()+`"`) {
				found = true
				if m["level"] != "INFO" || m["method"] != betting.MethodPlaceOrders || m["market"] != limitedMarket ||
					!strings.HasPrefix(m["customer_ref"].(string), "ctl.") || !strings.Contains(ins, `"side":"LAY","limitOrder":{"size":2,"price":1.01`) {
					t.Errorf("order %d's request logged as %v", i, m)
				}
			}
		}
		if !found {
			t.Errorf("order %d's request was not logged", i)
		}
	}
}

// TestStop: when the run's context ends with orders resting, each is
// cancelled and the run waits until the exchange confirms, then returns
// with no error; with KeepOrders they stay on the exchange.
func TestStop(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "cancel", true: "keep"}[keep], func(t *testing.T) {
			stop := make(chan struct{})
			res, _, bc := liveUntil(t, func() engine.Strategy {
				return &layer{tries: 4, many: true, haltAt: 4, halt: func() { close(stop) }}
			}, false, stop, func(_ *exchange.Config, lc *engine.LiveConfig) { lc.KeepOrders = keep })
			rows, err := bc.ListCurrentOrders(context.Background(), betting.CurrentOrdersFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 4 || len(res.Orders) != 4 {
				t.Fatalf("%d bets on the exchange, %d orders; want 4", len(rows), len(res.Orders))
			}
			byRef := map[string]betting.CurrentOrder{}
			for _, r := range rows {
				byRef[r.CustomerOrderRef] = r
			}
			for _, o := range res.Orders {
				b := byRef[o.CustomerRef()]
				switch {
				case keep && (b.Status != "EXECUTABLE" || o.Status() != engine.Executable):
					t.Errorf("kept order %s: engine %s, exchange %s", o.CustomerRef(), o.Status(), b.Status)
				case !keep && (b.Status != "EXECUTION_COMPLETE" || b.SizeCancelled != 2 || o.Status() != engine.ExecutionComplete || o.SizeCancelled() != 2):
					t.Errorf("order %s: engine %s cancelled %g, exchange %s cancelled %g", o.CustomerRef(), o.Status(), o.SizeCancelled(), b.Status, b.SizeCancelled)
				}
			}
		})
	}
}

// TestDailyLossLimit trades passive-back on the shared greyhound tar's
// races that it loses in a backtest, one after another, with a daily loss
// limit of 5: once the markets settled so far have lost that much, later
// placements are refused with the reason, and the exchange never sees
// them.
func TestDailyLossLimit(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("the tar's 32 markets run in the plain run")
	}
	testenv.Long(t)
	tar := testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar")
	in, ok := strategies.Builtins().Lookup("passive-back")
	if !ok {
		t.Fatal("passive-back")
	}
	// The races the backtest lost, one after another: once the first has
	// settled, the day has lost more than 5.
	var ids []string
	for _, m := range replay(t, []string{tar}, engine.Config{NewStrategy: builtin(t, "passive-back"), Commission: 0.05}).Markets {
		if m.Net < 0 {
			ids = append(ids, m.MarketID)
		}
	}
	res, _, bc := liveOn(t, func() engine.Strategy { s, _ := in.New(nil); return s }, false, func(xc *exchange.Config, lc *engine.LiveConfig) {
		xc.Tapes = []string{tar}
		lc.MarketIDs = ids
		lc.Commission = 0.05
		lc.Limits.DailyLossLimit = 5
	})
	ledger := cleared(t, bc)
	refused, placed := 0, 0
	for _, o := range res.Orders {
		_, onExchange := ledger[betRef(o)]
		if o.Status() != engine.Violation {
			placed++
			if !onExchange {
				t.Errorf("order %s (%s) is not on the exchange", o.CustomerRef(), o.Status())
			}
			continue
		}
		refused++
		var net float64
		if _, err := fmt.Sscanf(o.Violation(), "today's realised net %f reached the daily loss limit 5", &net); err != nil || net > -5 {
			t.Errorf("order %s refused for %q", o.CustomerRef(), o.Violation())
		}
		if onExchange {
			t.Errorf("order %s was refused, yet the exchange has it", o.CustomerRef())
		}
	}
	t.Logf("%d orders placed, %d refused after the daily loss", placed, refused)
	if refused == 0 || placed == 0 {
		t.Errorf("%d placed, %d refused: want some of each", placed, refused)
	}
}

// TestKillSwitchBatches: the kill switch cancels 70 resting orders of one
// market in two cancelOrders requests, 60 and 10 (Betfair's limit).
func TestKillSwitchBatches(t *testing.T) {
	kill := make(chan struct{})
	res, ex, bc := liveOn(t, func() engine.Strategy {
		return &layer{tries: 70, many: true, haltAt: 70, halt: func() { close(kill) }}
	}, false, func(_ *exchange.Config, lc *engine.LiveConfig) { lc.Halt = kill })
	ledger := cleared(t, bc)
	for _, o := range res.Orders {
		if b := ledger[betRef(o)]; o.Status() != engine.ExecutionComplete || b.BetOutcome != "CANCELLED" || b.SizeCancelled != 2 {
			t.Errorf("order %s: %s, exchange %+v", o.CustomerRef(), o.Status(), b)
		}
	}
	// One placeOrders per order (one a book), then the cancels.
	if len(res.Orders) != 70 || ex.Stats().OrderRequests != 70+2 {
		t.Errorf("%d orders, %d order requests; want 70 and 70 placements + 2 cancels", len(res.Orders), ex.Stats().OrderRequests)
	}
}
