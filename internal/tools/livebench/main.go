// Command livebench measures the live engine's tick-to-trade time: from a
// market change read off the stream's socket to the placeOrders request
// it caused written to the Betting API's connection. It runs engine.Live
// (the driver `trade live` uses) with a strategy that places an
// unmatchable back bet on every Nth update of each open pre-play market,
// against a local exchange (`trade serve --betting --info FILE`), and
// prints the median, p90, p99 and maximum, with how many markets sent
// changes and how fast. For scripts/bench.sh.
//
//	livebench prepare -markets 200 -o DIR TAPES...
//	livebench -exchange-info ex.json -duration 60s [-every 10] [-journal FILE] [-max-requests N]
//
// -max-requests is the engine's bound on requests on the wire at once.
// The local exchange answers a placement only when it takes effect (the
// model's latency, then the market's next change), so each request holds
// its slot until then (median 0.3 s with 200 markets), and too few slots
// queue new placements behind old answers.
//
// prepare makes the many markets a measurement needs out of a few real
// ones: each copy of a real tape gets a market id of its own (the real id
// with two digits appended) and keeps only its last minutes (-before the
// off to -after it, plus the first line, the market's image), with every
// publish time moved so that all the copies' windows start together. The
// messages are Betfair's, unchanged but for id and pt; the ladders between
// the image and the window are skipped, which makes no difference to the
// work each message costs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/journal"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "prepare" {
		if err := prepare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "livebench prepare:", err)
			os.Exit(1)
		}
		return
	}
	infoPath := flag.String("exchange-info", "", "the JSON file trade serve --info wrote")
	duration := flag.Duration("duration", time.Minute, "how long to trade")
	every := flag.Int("every", 10, "place a bet on every Nth update of a market")
	warmup := flag.Duration("warmup", 5*time.Second, "leave out the requests of the first part of the run (the markets' images)")
	journalPath := flag.String("journal", "", "journal every request, answer and order change to this file, as trade live does")
	maxRequests := flag.Int("max-requests", engine.DefaultMaxRequests, "Betting API requests on the wire at once")
	flag.Parse()
	if err := run(*infoPath, *journalPath, *duration, *warmup, *every, *maxRequests); err != nil {
		fmt.Fprintln(os.Stderr, "livebench:", err)
		os.Exit(1)
	}
}

// tick places one back bet at 1000 (which nothing matches) on every Nth
// update of each open pre-play market, so each of those updates causes
// exactly one placeOrders request.
type tick struct {
	engine.BaseStrategy
	every   int
	updates map[string]int
	markets map[string]bool
}

func (*tick) Name() string                        { return "livebench" }
func (*tick) Limits() engine.Limits               { return engine.Limits{} }
func (*tick) CheckMarketBook(*engine.Market) bool { return true }

func (s *tick) ProcessMarketBook(m *engine.Market) {
	s.markets[m.ID()] = true
	n := s.updates[m.ID()] + 1
	s.updates[m.ID()] = n
	if n%s.every != 0 || m.Status() != esa.MarketOpen || m.InPlay() {
		return
	}
	for _, r := range m.Runners() {
		if r.Status() == esa.RunnerActive {
			m.PlaceLimit(r.SelectionID, r.Handicap, engine.Back, 1000, 2)
			return
		}
	}
}

func run(infoPath, journalPath string, duration, warmup time.Duration, every, maxRequests int) error {
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	info, err := exchange.ReadInfo(ctx, infoPath, 30*time.Second)
	if err != nil {
		return err
	}
	if err := exchange.CheckLoopback(info.Stream, info.Identity, info.Betting); err != nil {
		return err
	}
	// The local exchange has no accounts: these are placeholders.
	bc, err := betting.New(betting.Config{Endpoints: betting.Local(info.Identity, info.Betting, info.Stream),
		AppKey: "livebench", Username: "bench", Password: "bench", CAFile: info.CA})
	if err != nil {
		return err
	}
	if err := bc.Login(ctx); err != nil {
		return err
	}
	var jr *journal.Journal
	if journalPath != "" {
		if jr, err = journal.Open(journalPath); err != nil {
			return err
		}
		defer jr.Close()
	}
	var mu sync.Mutex
	var wire []time.Duration
	start := time.Now()
	strat := &tick{every: every, updates: map[string]int{}, markets: map[string]bool{}}
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	res, err := engine.Live(ctx, engine.LiveConfig{
		Config: engine.Config{NewStrategy: func() (engine.Strategy, error) { return strat, nil }},
		// Only placements are timed: the cancels a stop would send when
		// the run ends are not caused by a change (OnWire cannot tell them
		// apart), and the exchange is stopped after the run anyway.
		KeepOrders: true,
		Betting: engine.BettingConfig{Client: bc, Session: "bench", Journal: jr, MaxRequests: maxRequests, OnWire: func(d time.Duration) {
			if time.Since(start) < warmup {
				return
			}
			mu.Lock()
			wire = append(wire, d)
			mu.Unlock()
		}},
		Stream: esa.ClientConfig{Addr: info.Stream, CAFile: info.CA, AppKey: "livebench", Session: bc.SessionToken, Relogin: bc.Login,
			Market: &esa.MarketSubscription{MarketFilter: &esa.MarketFilter{}, MarketDataFilter: &esa.MarketDataFilter{Fields: esa.AllMarketDataFields}},
			Order:  &esa.OrderSubscription{}},
	})
	if err != nil {
		return err
	}
	wall := time.Since(start)
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	mu.Lock()
	defer mu.Unlock()
	if len(wire) == 0 {
		return fmt.Errorf("no placement was made in %v (%d markets seen)", duration, len(strat.markets))
	}
	slices.Sort(wire)
	q := func(p float64) time.Duration { return wire[min(len(wire)-1, int(p*float64(len(wire))))] }
	fmt.Printf("markets with changes\t%d\n", len(strat.markets))
	fmt.Printf("placeOrders requests\t%d after the first %v (%d orders in all)\n", len(wire), warmup, len(res.Orders))
	fmt.Printf("tick-to-trade median\t%.3f ms\n", ms(q(0.5)))
	fmt.Printf("tick-to-trade p90\t%.3f ms\n", ms(q(0.9)))
	fmt.Printf("tick-to-trade p99\t%.3f ms\n", ms(q(0.99)))
	fmt.Printf("tick-to-trade max\t%.3f ms\n", ms(wire[len(wire)-1]))
	fmt.Printf("client CPU\t%.2f s in %.1f s wall (%.1f%% of a core)\n", cpu.Seconds(), wall.Seconds(), 100*cpu.Seconds()/wall.Seconds())
	fmt.Printf("client peak RSS\t%d MiB\n", after.Maxrss/1024)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
