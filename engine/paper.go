package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// PaperConfig configures Paper.
type PaperConfig struct {
	// Config is the strategy, the execution model and its latency, the
	// commission and the log, as for Replay (Workers and EventGroup do not
	// apply: one loop trades every market of the stream).
	Config
	// Stream is the market stream to trade on, Betfair's or a local
	// exchange's (trade serve); Paper sets its Handler.
	Stream esa.ClientConfig
	// MarketIDs, when set, end the run by itself once every one of them
	// has closed.
	MarketIDs []string
}

// Paper trades one strategy instance (or, with NewStrategies, several, each
// with its own orders and limits) on a live market stream with
// simulated execution: the backtest's event loop and execution model, fed
// by the stream instead of tapes. Its clock is each message's publish
// time, never the wall clock, so paper trading a replay of tapes gives the
// backtest's orders, fills and profit. It runs until ctx ends, the stream
// fails for good, or every market of cfg.MarketIDs has closed, and returns
// what it traded.
func Paper(ctx context.Context, cfg PaperConfig) (*Result, error) {
	start := time.Now()
	if cfg.NewStrategy == nil && cfg.NewStrategies == nil || cfg.NewExecution == nil {
		return nil, errors.New("engine: Paper needs NewStrategy (or NewStrategies) and NewExecution")
	}
	if cfg.Latency == (Latency{}) {
		cfg.Latency = FlumineLatency
	}
	u, err := newUnit(&cfg.Config)
	if err != nil {
		return nil, err
	}
	run, stop := context.WithCancel(ctx)
	defer stop()
	done := false
	cfg.Stream.Handler = func(_ []byte, m *esa.Message) error {
		u.message(m)
		if len(cfg.MarketIDs) > 0 && u.closed(cfg.MarketIDs) {
			done = true
			stop()
		}
		return nil
	}
	c, err := esa.NewClient(cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("engine: paper stream: %w", err)
	}
	u.start()
	err = c.Run(run)
	u.finish()
	var res Result
	u.results(&res, func(m MarketResult, orders []*Order) {
		res.Markets = append(res.Markets, m)
		res.Orders = append(res.Orders, orders...)
	})
	sort.SliceStable(res.Orders, func(i, j int) bool {
		a, b := &res.Orders[i].s, &res.Orders[j].s
		if a.MarketID != b.MarketID {
			return a.MarketID < b.MarketID
		}
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		return a.ID < b.ID
	})
	sort.Slice(res.Markets, func(i, j int) bool { return res.Markets[i].MarketID < res.Markets[j].MarketID })
	res.Wall = time.Since(start)
	if done || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		// Asked to stop, or finished: not a failure.
		err = nil
	}
	return &res, err
}

// closed reports whether every market of ids has been seen and closed.
func (u *unit) closed(ids []string) bool {
	for _, id := range ids {
		sts := u.markets[id]
		if len(sts) == 0 || !sts[0].closed {
			return false
		}
	}
	return true
}
