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
	// commission and the log, as for Replay (Workers, EventGroup, Keep,
	// OnMarket and Sources do not apply).
	Config
	// Stream is the market stream to trade on, Betfair's or a local
	// exchange's (trade serve); Paper sets its Handler.
	Stream esa.ClientConfig
	// MarketIDs, when set, end the run by itself once every one of them
	// has closed.
	MarketIDs []string
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
	units := map[string]*unit{}
	var list []*unit
	done := false
	var one esa.Message
	cfg.Stream.Handler = func(_ []byte, m *esa.Message) error {
		if m.Op != esa.OpMCM {
			return nil
		}
		for i := range m.MC {
			u := units[string(m.MC[i].ID)]
			if u == nil {
				var err error
				if u, err = newUnit(&cfg.Config); err != nil {
					return err
				}
				u.start()
				units[string(m.MC[i].ID)] = u
				list = append(list, u)
			}
			// Each market's loop sees its own changes only, as it would
			// reading the market's tape.
			one = *m
			one.MC = m.MC[i : i+1]
			u.message(&one)
		}
		if len(cfg.MarketIDs) > 0 && closed(units, cfg.MarketIDs) {
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
	var res Result
	for _, u := range list {
		u.finish()
		u.results(&res, func(m MarketResult, orders []*Order) {
			res.Markets = append(res.Markets, m)
			res.Orders = append(res.Orders, orders...)
		})
	}
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
	sort.Slice(res.Markets, func(i, j int) bool {
		a, b := res.Markets[i], res.Markets[j]
		if a.MarketID != b.MarketID {
			return a.MarketID < b.MarketID
		}
		return a.Slot < b.Slot
	})
	res.Wall = time.Since(start)
	if done || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		// Asked to stop, or finished: not a failure.
		err = nil
	}
	return &res, err
}

// closed reports whether every market of ids has been seen and closed.
func closed(units map[string]*unit, ids []string) bool {
	for _, id := range ids {
		u := units[id]
		if u == nil {
			return false
		}
		if sts := u.markets[id]; len(sts) == 0 || !sts[0].closed {
			return false
		}
	}
	return true
}
