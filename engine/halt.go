package engine

import (
	"context"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// DefaultStopWithin is how long a Live run's stop may take by default:
// cancelling the unmatched orders and waiting for the exchange to confirm,
// and the answers to requests still on their way. It leaves `trade live`
// time to write its outputs within 15 s of the signal.
const DefaultStopWithin = 12 * time.Second

// stopper is the end of a Live run and its kill switch: once halted, no
// new exposure goes and every unmatched order is cancelled (cancel
// requests only, through the markets' executors: at most 60 a request);
// once stopping, the run ends when the exchange has confirmed that none
// is left unmatched, or when the time allowed is up. It runs on the
// loop's goroutine.
type stopper struct {
	d   *streamDriver
	run *runControls
	// kill is the kill switch; ending is the run's context's end, until
	// the stop begins; deadline fires when the stop's time is up.
	kill     <-chan struct{}
	ending   <-chan struct{}
	deadline <-chan time.Time
	within   time.Duration
	keep     bool
	stopping bool
	// endRequests ends the context of the run's requests: at the
	// deadline, so that none outlives the stop.
	endRequests context.CancelFunc
	// asked is when each order's cancel was last sent by the sweep: one
	// whose answer left it unmatched is asked again a second later at
	// the earliest (the order stream may not have told yet).
	asked map[*Order]time.Time
}

// halt is the kill switch: no new exposure for the rest of the run, and a
// cancel for every unmatched order.
func (s *stopper) halt() {
	s.kill = nil
	s.run.halt("kill switch")
	s.sweep()
}

// begin starts the stop when the run's context ends, and reports whether
// the run may end at once: nothing to cancel, or the orders are kept.
func (s *stopper) begin() bool {
	s.ending, s.stopping = nil, true
	t := time.NewTimer(s.within)
	s.deadline = t.C
	time.AfterFunc(s.within, s.endRequests)
	if s.keep {
		s.run.halt("stopping (orders kept)")
		return true
	}
	s.run.halt("stopping")
	return s.sweep() == 0
}

// expired reports the orders the stop leaves unmatched, its time being up.
func (s *stopper) expired() {
	left := s.sweep()
	if left > 0 {
		s.run.log.Error("stop: time up with orders still unmatched on the exchange", "orders", left, "within", s.within)
	}
}

// after runs once the loop has handled a line or the executors' answers:
// when halted it cancels what is unmatched, and it reports whether a
// stop is complete.
func (s *stopper) after() bool {
	if s.run.halted == "" || s.keep && s.stopping {
		return false
	}
	return s.sweep() == 0 && s.stopping
}

// sweepMark is what the stop's sweep last saw of one market: the
// market's counts of lines and reports then, how many of its orders were
// unmatched, and when the first of those asked recently may be asked
// again. Until one of them moves the market holds nothing new to cancel.
type sweepMark struct {
	done             bool
	updates, reports int64
	left             int
	due              time.Time
}

// sweep asks to cancel every unmatched limit order of every open market
// and returns how many orders are still unmatched (those whose cancel is
// on its way or not yet confirmed included). Starting-price orders are
// left to the exchange: the engine cannot cancel them.
//
// It runs after every stream line, so it looks again only at the markets
// where something can have changed since it last did: a line of the
// market (its status, a strategy's own request), a report of its
// executor (an answer, the order stream), or an order whose cancel may be
// asked again. The cancels sent, and their order, are those of a scan of
// every order each time: only the markets that would send none are
// skipped.
func (s *stopper) sweep() (left int) {
	now := s.run.lim.Now()
	for _, u := range s.d.list {
		for _, sts := range u.list {
			for _, st := range sts {
				mk := &st.swept
				if !mk.done || mk.updates != st.updates || mk.reports != st.reports || !mk.due.IsZero() && !now.Before(mk.due) {
					s.sweepMarket(u, st, now)
				}
				left += mk.left
			}
		}
	}
	return left
}

// sweepMarket asks to cancel the unmatched limit orders of one market
// whose cancel was not asked in the last second, and marks what it saw.
func (s *stopper) sweepMarket(u *unit, st *marketState, now time.Time) {
	// What the market has seen is taken first: a report the cancels
	// themselves bring about has the market looked at again.
	mk := sweepMark{done: true, updates: st.updates, reports: st.reports}
	defer func() { st.swept = mk }()
	if st.closed {
		return
	}
	sent := false
	for _, o := range st.live {
		if o.s.Status.finished() || o.s.Type != Limit || o.SizeRemaining() <= 0 {
			continue
		}
		mk.left++
		if at, ok := s.asked[o]; ok && now.Sub(at) < time.Second {
			mk.wait(at)
			continue
		}
		m := &Market{st: st, u: u}
		if st.bk.Status() == esa.MarketOpen && m.Cancel(o, 0) {
			s.asked[o] = now
			mk.wait(now)
			sent = true
		}
	}
	if sent {
		st.x.Flush()
	}
}

// wait notes an order asked at at: the market is looked at again a second
// later, when the order may be asked again.
func (mk *sweepMark) wait(at time.Time) {
	if due := at.Add(time.Second); mk.due.IsZero() || due.Before(mk.due) {
		mk.due = due
	}
}
