package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// PaperConfig configures Paper.
type PaperConfig struct {
	// Config is the strategy, the execution model and its latency, the
	// commission and the log, as for Replay (Workers, EventGroup, Keep and
	// Sources do not apply). OnMarket, when set, receives each market's
	// result and orders once the market is over (see streamDriver.over),
	// while the run goes on, and the markets still open at the end when
	// the run stops.
	Config
	// Stream is the market stream to trade on, Betfair's or a local
	// exchange's (trade serve); Paper sets its Handler.
	Stream esa.ClientConfig
	// MarketIDs, when set, end the run by itself once every one of them
	// has closed.
	MarketIDs []string
	// Monitor, when set, is given the run's status now and then.
	Monitor Monitor
}

// Paper trades a strategy on a live market stream with simulated
// execution: the backtest's event loop and execution model, fed by the
// stream instead of tapes. As in a backtest, each market gets its own
// strategy instance (or instances, with NewStrategies), started when the
// market is first seen, so a strategy written for backtests runs
// unchanged. The clock is each message's publish time, never the wall
// clock, so paper trading a replay of tapes gives the backtest's orders,
// fills and profit. It runs until ctx ends, the stream fails for good, or
// every market of cfg.MarketIDs has closed, and returns what it traded.
func Paper(ctx context.Context, cfg PaperConfig) (*Result, error) {
	start := time.Now()
	if cfg.NewStrategy == nil && cfg.NewStrategies == nil || cfg.NewExecution == nil {
		return nil, errors.New("engine: Paper needs NewStrategy (or NewStrategies) and NewExecution")
	}
	if cfg.Latency == (Latency{}) {
		cfg.Latency = FlumineLatency
	}
	run, stop := context.WithCancel(ctx)
	defer stop()
	d := newStreamDriver(&cfg.Config)
	done := false
	var reported time.Time
	cfg.Stream.Handler = func(_ []byte, m *esa.Message) error {
		if err := d.message(m); err != nil {
			return err
		}
		// Between messages, on the loop's goroutine: a quiet stream
		// has nothing new to report.
		if cfg.Monitor.OnStatus != nil && time.Since(reported) >= cfg.Monitor.every() {
			reported = time.Now()
			cfg.Monitor.report(d)
		}
		if len(cfg.MarketIDs) > 0 && d.closed(cfg.MarketIDs) {
			done = true
			stop()
		}
		return nil
	}
	c, err := esa.NewClient(cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("engine: paper stream: %w", err)
	}
	err = c.Run(run)
	cfg.Monitor.report(d)
	res := d.result(start)
	if done || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		// Asked to stop, or finished: not a failure.
		err = nil
	}
	return res, err
}

// streamDriver feeds a live stream to the event loop: one unit per market,
// as a backtest replays each market's tape through its own, so that a
// strategy written for backtests runs unchanged. Paper and Live share it;
// they differ only in what executes the orders.
type streamDriver struct {
	cfg   *Config
	units map[string]*unit
	list  []*unit
	// res gathers the totals (and, without Config.OnMarket, the rows) of
	// the markets handed over so far; over holds their loops, which stay
	// in units so that a late message for the market starts nothing new.
	res  Result
	over map[*unit]bool
	// bet, when set, sends orders to the Betting API (live); adopt are
	// the earlier run's orders to take in as markets appear.
	bet   *BettingConfig
	adopt []betting.CurrentOrder
	one   esa.Message
	// now is the latest publish time seen, the clock answers are
	// delivered at.
	now int64
}

func newStreamDriver(cfg *Config) *streamDriver {
	return &streamDriver{cfg: cfg, units: map[string]*unit{}, over: map[*unit]bool{}}
}

// message hands one decoded stream message to the loops it concerns; the
// order stream's changes go to the loop of their market.
func (d *streamDriver) message(m *esa.Message) error {
	d.now = max(d.now, m.Pt)
	switch m.Op {
	case esa.OpMCM:
		for i := range m.MC {
			u, err := d.unit(m.MC[i].ID)
			if err != nil {
				return err
			}
			// Each market's loop sees its own changes only, as it would
			// reading the market's tape.
			d.one = *m
			d.one.MC = m.MC[i : i+1]
			u.message(&d.one)
			d.handOver(u)
		}
	case esa.OpOCM:
		for i := range m.OC {
			if u := d.units[string(m.OC[i].ID)]; u != nil {
				d.one = *m
				d.one.OC = m.OC[i : i+1]
				u.orderMessage(&d.one)
				d.handOver(u)
			}
		}
	}
	return nil
}

// unit returns the loop of market id, starting it on first sight.
func (d *streamDriver) unit(id []byte) (*unit, error) {
	if u := d.units[string(id)]; u != nil {
		return u, nil
	}
	u, err := newUnit(d.cfg)
	if err != nil {
		return nil, err
	}
	u.bet = d.bet
	var mine []betting.CurrentOrder
	for _, c := range d.adopt {
		if c.MarketID == string(id) {
			mine = append(mine, c)
		}
	}
	u.adopt(mine)
	u.start()
	d.units[string(id)] = u
	d.list = append(d.list, u)
	return u, nil
}

// advance hands every loop the answers its executors hold.
func (d *streamDriver) advance() {
	for _, u := range d.list {
		u.now = max(u.now, d.now)
		for _, sts := range u.list {
			for _, st := range sts {
				st.x.Advance(u.now, st.report)
				st.x.Flush()
			}
		}
		d.handOver(u)
	}
}

// handOver finishes u's loop and hands its results over (to
// Config.OnMarket, or into the run's result) once its market is over.
func (d *streamDriver) handOver(u *unit) {
	if d.over[u] || !u.over() {
		return
	}
	d.finish(u)
}

// finish ends u's strategy instances and hands their results over.
func (d *streamDriver) finish(u *unit) {
	d.over[u] = true
	u.finish()
	emit := d.cfg.OnMarket
	if emit == nil {
		emit = func(m MarketResult, orders []*Order) {
			d.res.Markets = append(d.res.Markets, m)
			d.res.Orders = append(d.res.Orders, orders...)
		}
	}
	u.results(&d.res, emit)
}

// result finishes the loops whose markets are not over yet and returns
// what the run traded.
func (d *streamDriver) result(start time.Time) *Result {
	for _, u := range d.list {
		if !d.over[u] {
			d.finish(u)
		}
	}
	d.res.sort()
	d.res.Wall = time.Since(start)
	return &d.res
}

// closed reports whether every market of ids has been seen and closed.
func (d *streamDriver) closed(ids []string) bool {
	for _, id := range ids {
		u := d.units[id]
		if u == nil {
			return false
		}
		if sts := u.markets[id]; len(sts) == 0 || !sts[0].closed {
			return false
		}
	}
	return true
}
