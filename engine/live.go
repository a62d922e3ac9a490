package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// LiveConfig configures Live.
type LiveConfig struct {
	// Config is the strategy, the commission and the log. The exchange
	// executes the orders; NewExecution, when set, only settles them at
	// each market's close by its model's rules (profit in the results).
	// OnMarket, when set, receives each market's results as soon as it is
	// over (closed, no order live), as PaperConfig's does.
	Config
	// Stream is the market and order stream (set both subscriptions);
	// Live sets its Handler.
	Stream esa.ClientConfig
	// Betting sends the orders; Live sets its Ctx, Seq and Wake.
	Betting BettingConfig
	// MarketIDs, when set, end the run by itself once every one of them
	// has closed.
	MarketIDs []string
	// Lockstep tells a local exchange run with --lockstep when this run
	// has finished with each market change: after the change's cycle (its
	// requests numbered and handed to their senders), a heartbeat whose id
	// is the number of order requests made so far. The exchange replays
	// nothing more until it has that heartbeat and that many requests, so
	// a run against it makes the same orders every time. Lockstep lifts
	// Betting.MaxRequests: a request held back by the bound would wait for
	// answers that wait for it.
	Lockstep bool
	// Monitor, when set, is given the run's status now and then.
	Monitor Monitor
	// Limits are the run-wide controls (transactions an hour, instructions
	// a second, the daily loss, nothing new while a stream is down).
	Limits RunLimits
	// Halt is the kill switch: once it yields (or is closed), nothing new
	// is sent for the rest of the run and every unmatched order is
	// cancelled.
	Halt <-chan struct{}
	// When ctx ends, the unmatched orders are cancelled and the run waits
	// for the exchange to confirm, StopWithin at most (DefaultStopWithin
	// when 0), unless KeepOrders leaves them on the exchange (as a dry run
	// does: its cancels would never be sent).
	KeepOrders bool
	StopWithin time.Duration
}

// Live trades a strategy on Betfair (or a local exchange): the market
// stream feeds the same loop as Paper and Replay, the Betting API executes
// the orders, and the order stream says what became of them. Before any
// strategy runs, the orders an earlier run left (listCurrentOrders for the
// strategies' customerStrategyRefs) are adopted. It runs until ctx ends
// (then it stops: see LiveConfig.KeepOrders), the stream fails for good,
// or every market of cfg.MarketIDs has closed.
//
// With Betting.Journal set, every request, answer and order change is
// journaled as it happens; an order-stream image that was not a clk resume
// has the orders it misses looked up (reconcile.go); each market's
// settlement is checked against listClearedOrders (settlecheck.go,
// Result.Settlement).
func Live(ctx context.Context, cfg LiveConfig) (*Result, error) {
	start := time.Now()
	if cfg.NewStrategy == nil && cfg.NewStrategies == nil || cfg.Betting.Client == nil {
		return nil, errors.New("engine: Live needs NewStrategy (or NewStrategies) and a betting client")
	}
	if cfg.Stream.Market == nil || cfg.Stream.Order == nil {
		return nil, errors.New("engine: Live needs both the market and the order subscription")
	}
	probe, err := newUnit(&cfg.Config)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, sl := range probe.slots {
		refs = append(refs, sl.ref)
	}
	// Complete orders too: they hold trade counts and order numbers, and
	// their fills and profit are the run's (a restart after a crash).
	left, err := cfg.Betting.Client.ListCurrentOrders(ctx, betting.CurrentOrdersFilter{CustomerStrategyRefs: refs, OrderProjection: "ALL"})
	if err != nil {
		return nil, fmt.Errorf("engine: live: orders left by an earlier run: %w", err)
	}
	// The stream and the requests outlive ctx by the stop (halt.go).
	run, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	reqs, endReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer endReqs()
	wake := make(chan struct{}, 1)
	bet := cfg.Betting
	bet.Ctx, bet.Seq, bet.InFlight = reqs, new(atomic.Uint64), new(sync.WaitGroup)
	if cfg.Lockstep {
		// The exchange replays nothing more until every request made so
		// far has reached it, and answers each only once it takes effect:
		// a request held back by the bound would wait for answers that
		// wait for it.
		bet.MaxRequests = math.MaxInt
	}
	bet.run = newRunControls(cfg.Limits, cfg.Log)
	bet.Wake = func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	defer bet.startJournal()()
	bet.settlement, bet.settleEnd = &SettlementCheck{}, ctx
	d := newStreamDriver(&cfg.Config)
	d.bet, d.adopt = &bet, left
	s := &stopper{d: d, run: bet.run, kill: cfg.Halt, ending: ctx.Done(), within: cmp.Or(cfg.StopWithin, DefaultStopWithin),
		keep: cfg.KeepOrders || cfg.Betting.Client.DryRun(), endRequests: endReqs, asked: map[*Order]time.Time{}}
	// The stream client reads on its own goroutine; the loop runs here, so
	// that answers are taken between messages, not only when one comes.
	type received struct {
		line []byte
		at   time.Time
		down bool // the connection ended here
	}
	lines := make(chan received, 1024)
	// changeAt is when the line being handled was read off the socket
	// (loop goroutine only): a request's time on the wire is measured from it.
	var changeAt time.Time
	if bet.OnWire != nil {
		bet.ChangeAt = func() time.Time { return changeAt }
	}
	cfg.Stream.Handler = func(line []byte, m *esa.Message) error {
		if m.Op != esa.OpMCM && m.Op != esa.OpOCM {
			return nil
		}
		select {
		case lines <- received{line: append([]byte(nil), line...), at: time.Now()}:
		case <-run.Done():
		}
		return nil
	}
	onDown := cfg.Stream.OnDisconnect
	cfg.Stream.OnDisconnect = func(err error) {
		bet.run.disconnected()
		select {
		case lines <- received{down: true}:
		case <-run.Done():
		}
		if onDown != nil {
			onDown(err)
		}
	}
	c, err := esa.NewClient(cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("engine: live stream: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Run(run) }()
	dec := esa.NewDecoder()
	var msg esa.Message
	var img imageSeen // a fresh order-stream image being read
	done := false
	tick, untick := cfg.Monitor.tick()
	defer untick()
loop:
	for {
		select {
		case <-tick:
			cfg.Monitor.report(d)
		case rl := <-lines:
			if rl.down {
				bet.run.line(true, false, 0)
				continue
			}
			changeAt = rl.at
			if err := dec.Decode(rl.line, &msg); err != nil {
				continue // the stream client has logged it
			}
			bet.run.line(false, msg.Op == esa.OpMCM, msg.Status)
			if err := d.message(&msg); err != nil {
				stop()
				<-errc
				return d.result(start), err
			}
			img.observe(d, &msg)
			if s.after() {
				stop()
			}
			if cfg.Lockstep && msg.Op == esa.OpMCM && len(msg.MC) > 0 {
				sent := bet.Seq.Load()
				if bet.Client.DryRun() {
					sent = 0 // nothing reaches the exchange
				}
				if err := c.Heartbeat(int64(sent)); err != nil && cfg.Log != nil {
					// The connection is gone; the stream client reconnects and
					// the exchange waits for the next change's heartbeat.
					cfg.Log.Debug("live: lockstep heartbeat", "err", err)
				}
			}
			if len(cfg.MarketIDs) > 0 && d.closed(cfg.MarketIDs) {
				done = true
				stop()
			}
		case <-wake:
			d.advance()
			if s.after() {
				stop()
			}
		case <-s.kill:
			s.halt()
		case <-s.ending:
			if s.begin() {
				stop()
			}
		case <-s.deadline:
			s.expired()
			stop()
		case err = <-errc:
			break loop
		}
	}
	// Requests still in flight when the stream ends are answered before
	// the run returns, so no order is left without its exchange's answer
	// (bounded by ctx, which bounds every request).
	answered := make(chan struct{})
	go func() { bet.InFlight.Wait(); close(answered) }()
wait:
	for {
		select {
		case <-answered:
			break wait
		case <-wake:
			d.advance()
		}
	}
	d.advance()
	cfg.Monitor.report(d)
	res := d.result(start)
	res.Settlement = bet.settlement
	if done || s.stopping && errors.Is(err, context.Canceled) {
		err = nil
	}
	return res, err
}
